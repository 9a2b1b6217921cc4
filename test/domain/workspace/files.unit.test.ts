import { describe, it } from 'vitest';
import { MAX_CHUNK_BYTES } from '../../../src/domain/chunks.js';
import type { NonNegativeInt } from '../../../src/domain/ids.js';
import type { CommandOf } from '../../../src/domain/workspace/commands.js';
import { command, content, EARLIER, event, n, ROOT, spec, v } from '../../support/spec.js';

type Commit = CommandOf<'CommitFileVersion'>;
const declaring = (c: Commit, size: number): Commit => ({ ...c, data: { ...c.data, size: size as NonNegativeInt } });

const docs = event.folderCreated(n(1), 'docs');
const aTxt = { fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) };

describe('a folder', () => {
  const given = [event.workspaceCreated(64 * 1024 * 1024), docs];
  const report = { fileId: n(2), versionId: v(1), name: 'report.pdf', parentId: n(1), content: content('r', 4, 5) };

  it('commits a new file stamped with the command time', () =>
    spec.given(given).when(command.commitNewFile(report)).then([event.fileCreated(report)]));

  it("keeps the device's modification time when it sends one", () =>
    spec
      .given(given)
      .when(command.commitNewFile({ ...report, modifiedAt: EARLIER }))
      .then([event.fileCreated({ ...report, modifiedAt: EARLIER })]));

  it('commits an empty file with no chunks', () => {
    const empty = { ...report, content: content('empty') };
    spec.given(given).when(command.commitNewFile(empty)).then([event.fileCreated(empty)]);
  });

  it('accepts a chunk of exactly the largest size', () => {
    const big = { ...report, content: content('big', MAX_CHUNK_BYTES, 1) };
    spec.given(given).when(command.commitNewFile(big)).then([event.fileCreated(big)]);
  });

  it('refuses chunks that do not add up to the declared size', () =>
    spec
      .given(given)
      .when(declaring(command.commitNewFile(report), 10))
      .thenFails('size_mismatch', { size: 10, chunkTotal: 9 }));

  it('refuses an empty chunk', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ ...report, content: content('z', 4, 0, 5) }))
      .thenFails('invalid_chunks', { index: 1 }));

  it('refuses a chunk larger than the largest size', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ ...report, content: content('huge', 1, MAX_CHUNK_BYTES + 1) }))
      .thenFails('invalid_chunks', { index: 1 }));

  it("refuses the folder's id for the file", () =>
    spec.given(given).when(command.commitNewFile({ ...report, fileId: n(1) })).thenFails('id_taken', { nodeId: n(1) }));

  it('refuses a parent that does not exist', () =>
    spec.given(given).when(command.commitNewFile({ ...report, parentId: n(9) })).thenFails('not_found', { nodeId: n(9) }));

  it('refuses the name of the folder next to it, in any case', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ ...report, name: 'DOCS', parentId: ROOT }))
      .thenFails('name_conflict', { parentId: ROOT, existingNodeId: n(1) }));
});

describe('a file with one version', () => {
  const given = [event.workspaceCreated(), docs, event.fileCreated(aTxt)];
  const edit = { fileId: n(2), versionId: v(2), baseVersionId: v(1), content: content('a2', 7) };

  it('commits a new version edited from the latest', () =>
    spec
      .given(given)
      .when(command.commitVersion(edit))
      .then([event.versionCommitted({ ...edit, name: 'a.txt', parentId: n(1) })]));

  it('refuses a new file under the file', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ fileId: n(3), versionId: v(2), name: 'b', parentId: n(2), content: content('b', 1) }))
      .thenFails('not_a_folder', { nodeId: n(2) }));

  it('refuses a new file with its name', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ fileId: n(3), versionId: v(2), name: 'A.txt', parentId: n(1), content: content('b', 1) }))
      .thenFails('name_conflict', { existingNodeId: n(2) }));

  it('refuses a new file with its id', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ fileId: n(2), versionId: v(2), name: 'b', content: content('b', 1) }))
      .thenFails('id_taken', { nodeId: n(2) }));

  it('refuses an edit with no base version', () =>
    spec
      .given(given)
      .when(command.commitVersion({ ...edit, baseVersionId: null }))
      .thenFails('version_conflict', { latestVersionId: v(1), baseVersionId: null }));

  it('refuses an edit from a version it never had', () =>
    spec
      .given(given)
      .when(command.commitVersion({ ...edit, baseVersionId: v(9) }))
      .thenFails('version_conflict', { latestVersionId: v(1) }));

  it('refuses a new version of a folder', () =>
    spec.given(given).when(command.commitVersion({ ...edit, fileId: n(1) })).thenFails('not_a_file', { nodeId: n(1) }));

  it('refuses a new version of a file that does not exist', () =>
    spec.given(given).when(command.commitVersion({ ...edit, fileId: n(9) })).thenFails('not_found', { nodeId: n(9) }));
});

describe('a file with two versions', () => {
  const given = [
    event.workspaceCreated(),
    docs,
    event.fileCreated(aTxt),
    event.versionCommitted({ fileId: n(2), versionId: v(2), baseVersionId: v(1), name: 'a.txt', parentId: n(1), content: content('a2', 5) }),
  ];

  it('refuses an edit from the older version and names the latest', () =>
    spec
      .given(given)
      .when(command.commitVersion({ fileId: n(2), versionId: v(3), baseVersionId: v(1), content: content('a3', 2) }))
      .thenFails('version_conflict', { latestVersionId: v(2), baseVersionId: v(1) }));
});

describe('a file moved since the edit began', () => {
  const given = [
    event.workspaceCreated(),
    docs,
    event.fileCreated(aTxt),
    event.nodeMoved(n(2), 'file', { parentId: n(1), name: 'a.txt' }, { parentId: ROOT, name: 'b.txt' }),
  ];

  it('commits the version where the file lives now, whatever place the command names', () =>
    spec
      .given(given)
      .when(command.commitVersion({ fileId: n(2), versionId: v(2), baseVersionId: v(1), parentId: n(1), name: 'a.txt', content: content('a2', 2) }))
      .then([event.versionCommitted({ fileId: n(2), versionId: v(2), baseVersionId: v(1), name: 'b.txt', parentId: ROOT, content: content('a2', 2) })]));
});

describe('a file in the trash', () => {
  const edit = { fileId: n(2), versionId: v(2), baseVersionId: v(1), content: content('a2', 2) };
  const trashed = [event.workspaceCreated(), docs, event.fileCreated(aTxt), event.nodeDeleted(n(2), 'file', 'a.txt', n(1))];

  it('refuses a new version', () => spec.given(trashed).when(command.commitVersion(edit)).thenFails('not_found', { nodeId: n(2) }));

  it('refuses a new version once its folder went to the trash', () =>
    spec
      .given([event.workspaceCreated(), docs, event.fileCreated(aTxt), event.nodeDeleted(n(1), 'folder', 'docs')])
      .when(command.commitVersion(edit))
      .thenFails('not_found'));

  it('refuses a new version once purged', () =>
    spec
      .given([...trashed, event.nodePurged(n(2))])
      .when(command.commitVersion(edit))
      .thenFails('not_found'));

  it('frees its name for a new file', () => {
    const again = { ...aTxt, fileId: n(3), versionId: v(2) };
    spec.given(trashed).when(command.commitNewFile(again)).then([event.fileCreated(again)]);
  });
});

describe('a workspace 8 of whose 10 bytes are used', () => {
  const eight = { fileId: n(1), versionId: v(1), name: 'eight', content: content('8', 8) };
  const given = [event.workspaceCreated(10), event.fileCreated(eight)];
  const newFile = (bytes: number) => ({ fileId: n(2), versionId: v(2), name: 'more', content: content('m', ...(bytes > 0 ? [bytes] : [])) });
  const edit = (bytes: number) => ({ fileId: n(1), versionId: v(2), baseVersionId: v(1), content: content('e', bytes) });

  it('refuses a new file that would pass the quota', () =>
    spec
      .given(given)
      .when(command.commitNewFile(newFile(3)))
      .thenFails('quota_exceeded', { usedBytes: 8, quotaBytes: 10, requiredBytes: 3 }));

  it('accepts a new file that fills the quota exactly', () =>
    spec.given(given).when(command.commitNewFile(newFile(2))).then([event.fileCreated(newFile(2))]));

  it('refuses a version that grows past the quota', () =>
    spec.given(given).when(command.commitVersion(edit(11))).thenFails('quota_exceeded', { requiredBytes: 3 }));

  it('accepts a version that grows up to the quota', () =>
    spec.given(given).when(command.commitVersion(edit(10))).then([event.versionCommitted({ ...edit(10), name: 'eight' })]));

  it('accepts a version that shrinks', () =>
    spec.given(given).when(command.commitVersion(edit(1))).then([event.versionCommitted({ ...edit(1), name: 'eight' })]));

  it('does not count the trash', () =>
    spec
      .given([...given, event.nodeDeleted(n(1), 'file', 'eight')])
      .when(command.commitNewFile(newFile(10)))
      .then([event.fileCreated(newFile(10))]));

  it('does not count older versions', () => {
    const shrunk = event.versionCommitted({ ...edit(1), name: 'eight' });
    spec.given([...given, shrunk]).when(command.commitNewFile(newFile(9))).then([event.fileCreated(newFile(9))]);
  });
});

describe('a full workspace', () => {
  const given = [event.workspaceCreated(4), event.fileCreated({ fileId: n(1), versionId: v(1), name: 'full', content: content('f', 4) })];

  it('still accepts an empty file', () => {
    const empty = { fileId: n(2), versionId: v(2), name: 'empty', content: content('e') };
    spec.given(given).when(command.commitNewFile(empty)).then([event.fileCreated(empty)]);
  });
});
