import { describe, it } from 'vitest';
import { command, content, event, n, ROOT, spec, v } from '../../support/spec.js';

// root/docs (n1)/a.txt (n2), root/archive (n3)
const tree = [
  event.workspaceCreated(),
  event.folderCreated(n(1), 'docs'),
  event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) }),
  event.folderCreated(n(3), 'archive'),
];
const inDocs = { parentId: n(1), name: 'a.txt' };

describe('a folder with a file, and another folder', () => {
  it('moves the file to the other folder', () =>
    spec
      .given(tree)
      .when(command.move(n(2), n(3), 'a.txt'))
      .then([event.nodeMoved(n(2), 'file', inDocs, { parentId: n(3), name: 'a.txt' })]));

  it('moves and renames in one event', () =>
    spec
      .given(tree)
      .when(command.move(n(2), ROOT, 'b.txt'))
      .then([event.nodeMoved(n(2), 'file', inDocs, { parentId: ROOT, name: 'b.txt' })]));

  it('renames the file in place', () =>
    spec
      .given(tree)
      .when(command.move(n(2), n(1), 'b.txt'))
      .then([event.nodeMoved(n(2), 'file', inDocs, { parentId: n(1), name: 'b.txt' })]));

  it('renames it when only the case changes', () =>
    spec
      .given(tree)
      .when(command.move(n(2), n(1), 'A.TXT'))
      .then([event.nodeMoved(n(2), 'file', inDocs, { parentId: n(1), name: 'A.TXT' })]));

  it('records nothing when the file stays where it is', () => spec.given(tree).when(command.move(n(2), n(1), 'a.txt')).then([]));

  it('moves a whole folder with one event', () =>
    spec
      .given(tree)
      .when(command.move(n(1), n(3), 'docs'))
      .then([event.nodeMoved(n(1), 'folder', { parentId: ROOT, name: 'docs' }, { parentId: n(3), name: 'docs' })]));

  it('refuses a name taken at the target, in any case', () =>
    spec
      .given(tree)
      .when(command.move(n(2), ROOT, 'Archive'))
      .thenFails('name_conflict', { parentId: ROOT, name: 'Archive', existingNodeId: n(3) }));

  it('refuses a file as the target', () => spec.given(tree).when(command.move(n(3), n(2), 'x')).thenFails('not_a_folder', { nodeId: n(2) }));

  it('refuses a target that does not exist', () => spec.given(tree).when(command.move(n(2), n(9), 'a.txt')).thenFails('not_found', { nodeId: n(9) }));

  it('refuses a node that does not exist', () => spec.given(tree).when(command.move(n(9), ROOT, 'x')).thenFails('not_found', { nodeId: n(9) }));

  it('refuses to move the root', () => spec.given(tree).when(command.move(ROOT, n(3), 'root')).thenFails('root_immutable', { nodeId: ROOT }));

  it('refuses an invalid name', () => spec.given(tree).when(command.move(n(2), n(1), 'a\u0000')).thenFails('invalid_name', { reason: 'nul' }));
});

describe('a folder moved elsewhere', () => {
  const given = [...tree, event.nodeMoved(n(1), 'folder', { parentId: ROOT, name: 'docs' }, { parentId: n(3), name: 'docs' })];

  it('takes its files along', () =>
    spec
      .given(given)
      .when(command.move(n(2), n(1), 'b.txt'))
      .then([event.nodeMoved(n(2), 'file', inDocs, { parentId: n(1), name: 'b.txt' })]));

  it('leaves its old name free', () => spec.given(given).when(command.createFolder(n(4), 'docs')).then([event.folderCreated(n(4), 'docs')]));

  it('refuses to move the folder that now holds it into it', () =>
    spec.given(given).when(command.move(n(3), n(1), 'archive')).thenFails('cycle', { nodeId: n(3), parentId: n(1) }));
});

describe('names spelled in NFC and NFD', () => {
  const given = [
    event.workspaceCreated(),
    event.folderCreated(n(1), 'caf\u00e9'),
    event.folderCreated(n(2), 'other'),
  ];

  it('refuses a move onto the other spelling of a sibling', () =>
    spec.given(given).when(command.move(n(2), ROOT, 'cafe\u0301')).thenFails('name_conflict', { existingNodeId: n(1) }));

  it('re-spells a name in place', () =>
    spec
      .given(given)
      .when(command.move(n(1), ROOT, 'cafe\u0301'))
      .then([event.nodeMoved(n(1), 'folder', { parentId: ROOT, name: 'caf\u00e9' }, { parentId: ROOT, name: 'cafe\u0301' })]));
});

describe('three nested folders', () => {
  // root/a (n1)/b (n2)/c (n3)
  const given = [
    event.workspaceCreated(),
    event.folderCreated(n(1), 'a'),
    event.folderCreated(n(2), 'b', n(1)),
    event.folderCreated(n(3), 'c', n(2)),
  ];

  it('refuses to move a folder into itself', () => spec.given(given).when(command.move(n(1), n(1), 'a')).thenFails('cycle', { nodeId: n(1), parentId: n(1) }));

  it('refuses to move a folder into its child', () => spec.given(given).when(command.move(n(1), n(2), 'a')).thenFails('cycle', { parentId: n(2) }));

  it('refuses to move a folder into its grandchild', () =>
    spec.given(given).when(command.move(n(1), n(3), 'a')).thenFails('cycle', { nodeId: n(1), parentId: n(3) }));

  it('moves the deepest folder up to the root', () =>
    spec
      .given(given)
      .when(command.move(n(3), ROOT, 'c'))
      .then([event.nodeMoved(n(3), 'folder', { parentId: n(2), name: 'c' }, { parentId: ROOT, name: 'c' })]));

  it('moves a folder into its parent\'s sibling', () =>
    spec
      .given([...given, event.folderCreated(n(4), 'd', n(1))])
      .when(command.move(n(2), n(4), 'b'))
      .then([event.nodeMoved(n(2), 'folder', { parentId: n(1), name: 'b' }, { parentId: n(4), name: 'b' })]));
});

describe('a folder in the trash', () => {
  const given = [...tree, event.nodeDeleted(n(1), 'folder', 'docs')];

  it('refuses to move it', () => spec.given(given).when(command.move(n(1), n(3), 'docs')).thenFails('not_found', { nodeId: n(1) }));

  it('refuses to move what went to the trash with it', () =>
    spec.given(given).when(command.move(n(2), ROOT, 'a.txt')).thenFails('not_found', { nodeId: n(2) }));

  it('refuses it as a target', () => spec.given(given).when(command.move(n(3), n(1), 'archive')).thenFails('not_found', { nodeId: n(1) }));

  it('does not hold its name against a move', () =>
    spec
      .given(given)
      .when(command.move(n(3), ROOT, 'docs'))
      .then([event.nodeMoved(n(3), 'folder', { parentId: ROOT, name: 'archive' }, { parentId: ROOT, name: 'docs' })]));
});

describe('a purged folder', () => {
  const given = [...tree, event.nodeDeleted(n(1), 'folder', 'docs'), event.nodePurged(n(1))];

  it('refuses to move it', () => spec.given(given).when(command.move(n(1), ROOT, 'docs')).thenFails('not_found'));

  it('refuses to move what was purged with it', () => spec.given(given).when(command.move(n(2), ROOT, 'a.txt')).thenFails('not_found'));
});
