import { describe, it } from 'vitest';
import { command, content, event, n, ROOT, spec, v, WS } from '../../support/spec.js';

describe('no workspace yet', () => {
  it('creates the workspace with its root folder and quota', () =>
    spec.given([]).when(command.createWorkspace(5000)).then([event.workspaceCreated(5000)]));

  it.each([
    ['CreateFolder', command.createFolder(n(1), 'docs')],
    ['CommitFileVersion', command.commitNewFile({ fileId: n(1), versionId: v(1), name: 'a.txt', content: content('a', 1) })],
    ['MoveNode', command.move(n(1), ROOT, 'b')],
    ['DeleteNode', command.delete(n(1))],
    ['UndeleteNode', command.undelete(n(1))],
    ['RestoreVersion', command.restoreVersion(n(1), v(1), v(2))],
    ['PurgeNode', command.purge(n(1))],
  ])('answers not_found to %s', (_type, cmd) => spec.given([]).when(cmd).thenFails('not_found'));
});

describe('an open workspace', () => {
  it('refuses to create it a second time', () =>
    spec.given([event.workspaceCreated()]).when(command.createWorkspace()).thenFails('workspace_exists', { workspaceId: WS }));

  it('refuses to create it again even with another root', () =>
    spec.given([event.workspaceCreated()]).when(command.createWorkspace(1000, n('other'))).thenFails('workspace_exists'));
});
