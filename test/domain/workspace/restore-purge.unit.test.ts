import { describe, it } from 'vitest';
import { command, content, event, n, ROOT, spec, v } from '../../support/spec.js';

const one = content('one', 3);
const two = content('two', 5);
const three = content('three', 2, 2);

// root/docs (n1)/a.txt (n2) with versions v1, v2, v3 (latest)
const history = [
  event.workspaceCreated(),
  event.folderCreated(n(1), 'docs'),
  event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: one }),
  event.versionCommitted({ fileId: n(2), versionId: v(2), baseVersionId: v(1), name: 'a.txt', parentId: n(1), content: two }),
  event.versionCommitted({ fileId: n(2), versionId: v(3), baseVersionId: v(2), name: 'a.txt', parentId: n(1), content: three }),
];
const restored = (from: ReturnType<typeof v>, c: typeof one, where = { parentId: n(1), name: 'a.txt' }) =>
  event.versionRestored({ fileId: n(2), versionId: v(4), from, content: c, ...where });

describe('a file with three versions', () => {
  it('restores an old version as a new latest version', () =>
    spec.given(history).when(command.restoreVersion(n(2), v(1), v(4))).then([restored(v(1), one)]));

  it('restores the latest version as a new version with the same content', () =>
    spec.given(history).when(command.restoreVersion(n(2), v(3), v(4))).then([restored(v(3), three)]));

  it('refuses a version the file never had', () =>
    spec.given(history).when(command.restoreVersion(n(2), v(9), v(4))).thenFails('not_found', { versionId: v(9) }));

  it('refuses a file that does not exist', () =>
    spec.given(history).when(command.restoreVersion(n(9), v(1), v(4))).thenFails('not_found', { nodeId: n(9) }));

  it('refuses a folder', () => spec.given(history).when(command.restoreVersion(n(1), v(1), v(4))).thenFails('not_a_file', { nodeId: n(1) }));

  it('purges old versions', () => spec.given(history).when(command.purge(n(2), [v(1), v(2)])).then([event.versionsPurged(n(2), [v(1), v(2)])]));

  it('purges a version named twice once', () => spec.given(history).when(command.purge(n(2), [v(2), v(2)])).then([event.versionsPurged(n(2), [v(2)])]));

  it('records nothing for an empty list', () => spec.given(history).when(command.purge(n(2), [])).then([]));

  it('refuses to purge the latest version', () =>
    spec.given(history).when(command.purge(n(2), [v(1), v(3)])).thenFails('version_is_latest', { versionId: v(3) }));

  it('refuses a version the file never had', () =>
    spec.given(history).when(command.purge(n(2), [v(1), v(9)])).thenFails('not_found', { versionId: v(9) }));

  it('refuses versions of a folder', () => spec.given(history).when(command.purge(n(1), [v(1)])).thenFails('not_a_file', { nodeId: n(1) }));

  it('refuses to purge the live file itself', () => spec.given(history).when(command.purge(n(2))).thenFails('not_in_trash', { nodeId: n(2) }));

  it('refuses to purge the root', () => spec.given(history).when(command.purge(ROOT)).thenFails('not_in_trash'));

  it('refuses to purge a node that does not exist', () => spec.given(history).when(command.purge(n(9))).thenFails('not_found', { nodeId: n(9) }));
});

describe('a file with a purged old version', () => {
  const given = [...history, event.versionsPurged(n(2), [v(1)])];

  it('answers gone for the purged version', () =>
    spec.given(given).when(command.restoreVersion(n(2), v(1), v(4))).thenFails('gone', { versionId: v(1) }));

  it('still restores the other old version', () => spec.given(given).when(command.restoreVersion(n(2), v(2), v(4))).then([restored(v(2), two)]));

  it('skips the purged version when purging again', () =>
    spec.given(given).when(command.purge(n(2), [v(1), v(2)])).then([event.versionsPurged(n(2), [v(2)])]));

  it('records nothing when every version named is purged already', () => spec.given(given).when(command.purge(n(2), [v(1)])).then([]));
});

describe('a file moved since its last version', () => {
  const given = [...history, event.nodeMoved(n(2), 'file', { parentId: n(1), name: 'a.txt' }, { parentId: ROOT, name: 'b.txt' })];

  it('restores the version where the file lives now', () =>
    spec.given(given).when(command.restoreVersion(n(2), v(2), v(4))).then([restored(v(2), two, { parentId: ROOT, name: 'b.txt' })]));
});

describe('a file in the trash', () => {
  const given = [...history, event.nodeDeleted(n(2), 'file', 'a.txt', n(1))];

  it('purges it', () => spec.given(given).when(command.purge(n(2))).then([event.nodePurged(n(2))]));

  it('purges its old versions and leaves it in the trash', () =>
    spec.given(given).when(command.purge(n(2), [v(1)])).then([event.versionsPurged(n(2), [v(1)])]));

  it('refuses to restore a version of it', () => spec.given(given).when(command.restoreVersion(n(2), v(1), v(4))).thenFails('not_found', { nodeId: n(2) }));
});

describe('a folder with a file in the trash', () => {
  const given = [...history, event.nodeDeleted(n(1), 'folder', 'docs')];

  it('purges the folder', () => spec.given(given).when(command.purge(n(1))).then([event.nodePurged(n(1))]));

  it('refuses to purge the file on its own', () => spec.given(given).when(command.purge(n(2))).thenFails('not_in_trash', { nodeId: n(2) }));

  it('still purges old versions of the file', () =>
    spec.given(given).when(command.purge(n(2), [v(2)])).then([event.versionsPurged(n(2), [v(2)])]));
});

describe('a purged folder that held a file', () => {
  const given = [...history, event.nodeDeleted(n(1), 'folder', 'docs'), event.nodePurged(n(1))];

  it('refuses to purge it again', () => spec.given(given).when(command.purge(n(1))).thenFails('not_found', { nodeId: n(1) }));

  it('refuses to undelete the folder', () => spec.given(given).when(command.undelete(n(1))).thenFails('not_found'));

  it('took the file with it', () => spec.given(given).when(command.undelete(n(2))).thenFails('not_found', { nodeId: n(2) }));

  it("took the file's versions with it", () => spec.given(given).when(command.purge(n(2), [v(1)])).thenFails('not_found', { nodeId: n(2) }));
});

describe('a folder purged after a file inside it was deleted', () => {
  const given = [
    ...history,
    event.nodeDeleted(n(2), 'file', 'a.txt', n(1)),
    event.nodeDeleted(n(1), 'folder', 'docs'),
    event.nodePurged(n(1)),
  ];

  it('left the file in the trash, to come back at the root', () =>
    spec.given(given).when(command.undelete(n(2))).then([event.nodeRestored(n(2), 'file', 'a.txt', ROOT)]));

  it('left the file purgeable on its own', () => spec.given(given).when(command.purge(n(2))).then([event.nodePurged(n(2))]));
});

describe('a file near the quota', () => {
  // 10 bytes of quota; v1 holds 8 bytes, v2 (latest) 3
  const given = [
    event.workspaceCreated(10),
    event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', content: content('big', 8) }),
    event.versionCommitted({ fileId: n(2), versionId: v(2), baseVersionId: v(1), name: 'a.txt', content: content('small', 3) }),
    event.fileCreated({ fileId: n(3), versionId: v(3), name: 'b.txt', content: content('b', 4) }),
  ];

  it('refuses to restore a version that would pass the quota', () =>
    spec.given(given).when(command.restoreVersion(n(2), v(1), v(4))).thenFails('quota_exceeded', { usedBytes: 7, quotaBytes: 10, requiredBytes: 5 }));

  it('restores it once there is room', () =>
    spec
      .given([...given, event.nodeDeleted(n(3), 'file', 'b.txt')])
      .when(command.restoreVersion(n(2), v(1), v(4)))
      .then([event.versionRestored({ fileId: n(2), versionId: v(4), from: v(1), name: 'a.txt', content: content('big', 8) })]));
});
