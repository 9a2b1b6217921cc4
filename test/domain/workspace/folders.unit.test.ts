import { describe, it } from 'vitest';
import { command, content, event, n, ROOT, spec, v } from '../../support/spec.js';

const docs = event.folderCreated(n(1), 'docs');
const fileInDocs = event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) });

describe('an empty workspace', () => {
  const given = [event.workspaceCreated()];

  it('creates a folder at the root', () =>
    spec.given(given).when(command.createFolder(n(1), 'docs')).then([event.folderCreated(n(1), 'docs')]));

  it('refuses the root id for a new folder', () =>
    spec.given(given).when(command.createFolder(ROOT, 'docs')).thenFails('id_taken', { nodeId: ROOT }));

  it('refuses a parent that does not exist', () =>
    spec.given(given).when(command.createFolder(n(1), 'docs', n(9))).thenFails('not_found', { nodeId: n(9) }));
});

describe('a folder with a file', () => {
  const given = [event.workspaceCreated(), docs, fileInDocs];

  it('creates a folder inside the folder', () =>
    spec.given(given).when(command.createFolder(n(3), 'sub', n(1))).then([event.folderCreated(n(3), 'sub', n(1))]));

  it('allows the name of a file in another folder', () =>
    spec.given(given).when(command.createFolder(n(3), 'a.txt')).then([event.folderCreated(n(3), 'a.txt')]));

  it('refuses the name of the file next to it', () =>
    spec
      .given(given)
      .when(command.createFolder(n(3), 'a.txt', n(1)))
      .thenFails('name_conflict', { parentId: n(1), name: 'a.txt', existingNodeId: n(2) }));

  it('refuses a name that differs only by case', () =>
    spec.given(given).when(command.createFolder(n(3), 'A.TXT', n(1))).thenFails('name_conflict', { existingNodeId: n(2) }));

  it('refuses a file as the parent', () =>
    spec.given(given).when(command.createFolder(n(3), 'sub', n(2))).thenFails('not_a_folder', { nodeId: n(2) }));

  it("refuses the file's id", () => spec.given(given).when(command.createFolder(n(2), 'sub')).thenFails('id_taken', { nodeId: n(2) }));

  it('checks the id before anything else', () => spec.given(given).when(command.createFolder(n(1), '', n(9))).thenFails('id_taken'));
});

describe('a folder in the trash', () => {
  const given = [event.workspaceCreated(), docs, fileInDocs, event.nodeDeleted(n(1), 'folder', 'docs')];

  it('frees its name in its old parent', () =>
    spec.given(given).when(command.createFolder(n(3), 'docs')).then([event.folderCreated(n(3), 'docs')]));

  it('refuses it as a parent', () => spec.given(given).when(command.createFolder(n(3), 'sub', n(1))).thenFails('not_found', { nodeId: n(1) }));

  it('refuses its id', () => spec.given(given).when(command.createFolder(n(1), 'docs')).thenFails('id_taken'));
});

describe('a purged folder', () => {
  const given = [event.workspaceCreated(), docs, event.nodeDeleted(n(1), 'folder', 'docs'), event.nodePurged(n(1))];

  it('refuses it as a parent', () => spec.given(given).when(command.createFolder(n(3), 'sub', n(1))).thenFails('not_found'));

  it('never gives its id out again', () => spec.given(given).when(command.createFolder(n(1), 'docs')).thenFails('id_taken'));
});
