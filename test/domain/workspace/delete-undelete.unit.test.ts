import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { nameKey, nameProblem } from '../../../src/domain/names.js';
import { decide } from '../../../src/domain/workspace/decide.js';
import { nameStemKey } from '../../../src/domain/workspace/decide/tree.js';
import { evolve, fold } from '../../../src/domain/workspace/evolve.js';
import { initialState } from '../../../src/domain/workspace/state.js';
import { command, content, event, n, ROOT, spec, v } from '../../support/spec.js';

// root/docs (n1)/a.txt (n2), root/archive (n3)
const tree = [
  event.workspaceCreated(),
  event.folderCreated(n(1), 'docs'),
  event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) }),
  event.folderCreated(n(3), 'archive'),
];
const fileGone = event.nodeDeleted(n(2), 'file', 'a.txt', n(1));
const docsGone = event.nodeDeleted(n(1), 'folder', 'docs');
const newFileInDocs = (i: number, name: string) =>
  event.fileCreated({ fileId: n(i), versionId: v(i), name, parentId: n(1), content: content(name, 1) });

describe('a folder with a file', () => {
  it('sends the file to the trash', () => spec.given(tree).when(command.delete(n(2))).then([fileGone]));

  it('sends the folder to the trash with one event', () => spec.given(tree).when(command.delete(n(1))).then([docsGone]));

  it('refuses to delete the root', () => spec.given(tree).when(command.delete(ROOT)).thenFails('root_immutable', { nodeId: ROOT }));

  it('refuses a node that does not exist', () => spec.given(tree).when(command.delete(n(9))).thenFails('not_found', { nodeId: n(9) }));

  it('refuses to undelete a node that is not in the trash', () =>
    spec.given(tree).when(command.undelete(n(2))).thenFails('not_in_trash', { nodeId: n(2), trashedBy: null }));

  it('refuses to undelete the root', () => spec.given(tree).when(command.undelete(ROOT)).thenFails('not_in_trash'));

  it('refuses to undelete a node that does not exist', () => spec.given(tree).when(command.undelete(n(9))).thenFails('not_found'));
});

describe('a file in the trash', () => {
  const given = [...tree, fileGone];

  it('puts it back at its old place', () => spec.given(given).when(command.undelete(n(2))).then([event.nodeRestored(n(2), 'file', 'a.txt', n(1))]));

  it('puts it into another folder when asked', () =>
    spec.given(given).when(command.undelete(n(2), { parentId: n(3) })).then([event.nodeRestored(n(2), 'file', 'a.txt', n(3))]));

  it('puts it back under another name when asked', () =>
    spec.given(given).when(command.undelete(n(2), { name: 'b.txt' })).then([event.nodeRestored(n(2), 'file', 'b.txt', n(1))]));

  it('puts it into another folder under another name when asked', () =>
    spec
      .given(given)
      .when(command.undelete(n(2), { parentId: ROOT, name: 'b.txt' }))
      .then([event.nodeRestored(n(2), 'file', 'b.txt', ROOT)]));

  it('refuses a name taken in the folder asked for', () =>
    spec.given(given).when(command.undelete(n(2), { parentId: ROOT, name: 'DOCS' })).thenFails('name_conflict', { existingNodeId: n(1) }));

  it('refuses a file as the folder asked for', () =>
    spec
      .given([...given, event.fileCreated({ fileId: n(4), versionId: v(4), name: 'b', content: content('b', 1) })])
      .when(command.undelete(n(2), { parentId: n(4) }))
      .thenFails('not_a_folder', { nodeId: n(4) }));

  it('refuses a folder asked for that does not exist', () =>
    spec.given(given).when(command.undelete(n(2), { parentId: n(9) })).thenFails('not_found', { nodeId: n(9) }));

  it('refuses a folder asked for that is in the trash', () =>
    spec
      .given([...given, event.nodeDeleted(n(3), 'folder', 'archive')])
      .when(command.undelete(n(2), { parentId: n(3) }))
      .thenFails('not_found', { nodeId: n(3) }));

  it('refuses to delete it again', () => spec.given(given).when(command.delete(n(2))).thenFails('not_found'));
});

describe('a file in the trash whose place was taken', () => {
  const given = [...tree, fileGone, newFileInDocs(4, 'a.txt')];

  it('puts it back as "a (1).txt"', () => spec.given(given).when(command.undelete(n(2))).then([event.nodeRestored(n(2), 'file', 'a (1).txt', n(1))]));

  it('skips numbers taken too, in any case', () =>
    spec
      .given([...given, newFileInDocs(5, 'A (1).TXT'), newFileInDocs(6, 'a (3).txt')])
      .when(command.undelete(n(2)))
      .then([event.nodeRestored(n(2), 'file', 'a (2).txt', n(1))]));

  it('numbers it in the folder asked for too', () =>
    spec
      .given([...given, event.fileCreated({ fileId: n(5), versionId: v(5), name: 'a.txt', content: content('r', 1) })])
      .when(command.undelete(n(2), { parentId: ROOT }))
      .then([event.nodeRestored(n(2), 'file', 'a (1).txt', ROOT)]));

  it('refuses the taken name when asked for it explicitly', () =>
    spec.given(given).when(command.undelete(n(2), { name: 'a.txt' })).thenFails('name_conflict', { existingNodeId: n(4) }));
});

describe('files of various names in the trash whose places were taken', () => {
  const trashedThenRetaken = (name: string) => [
    ...tree,
    newFileInDocs(4, name),
    event.nodeDeleted(n(4), 'file', name, n(1)),
    newFileInDocs(5, name),
  ];

  it.each([
    ['a plain name', 'notes', 'notes (1)'],
    ['a dotfile', '.env', '.env (1)'],
    ['a double extension, numbered before the last one', 'backup.tar.gz', 'backup.tar (1).gz'],
  ])('numbers %s', (_what, name, expected) =>
    spec.given(trashedThenRetaken(name)).when(command.undelete(n(4))).then([event.nodeRestored(n(4), 'file', expected, n(1))]),
  );

  it('shortens a 255-byte name so the numbered name stays a valid name', () => {
    const long = `${'x'.repeat(251)}.txt`;
    spec
      .given(trashedThenRetaken(long))
      .when(command.undelete(n(4)))
      .then([event.nodeRestored(n(4), 'file', `${'x'.repeat(247)} (1).txt`, n(1))]);
  });

  it('shortens by whole characters, never splitting one', () => {
    const long = `${'😀'.repeat(62)}abc.txt`; // 248 + 7 = 255 bytes
    spec
      .given(trashedThenRetaken(long))
      .when(command.undelete(n(4)))
      .then([event.nodeRestored(n(4), 'file', `${'😀'.repeat(61)} (1).txt`, n(1))]);
  });
});

describe('three files of one name in the trash, and a live one holding the name', () => {
  // The decision-state loader finds the siblings an undelete could collide with by nameStemKey.
  it.each([
    ['a short name', 'a.txt'],
    ['a name without extension', 'notes'],
    ['a dotfile', '.env'],
    ['an NFD name', 'Cafe\u0301.TXT'],
    ['a 255-byte name', `${'x'.repeat(251)}.txt`],
    ['a 255-byte name without extension', 'y'.repeat(255)],
    ['a name of emoji', `${'😀'.repeat(63)}.z`],
    ['a name with a 252-byte extension', `a.${'e'.repeat(252)}`],
  ])('numbers %s validly, under its stem key', (_what, name) => {
    const file = (i: number) => event.fileCreated({ fileId: n(i), versionId: v(i), name, content: content(`${i}`, 1) });
    let state = fold(
      [event.workspaceCreated(), file(1), event.nodeDeleted(n(1), 'file', name), file(2), event.nodeDeleted(n(2), 'file', name), file(3), event.nodeDeleted(n(3), 'file', name), file(4)],
      initialState(),
    );
    const given: string[] = [];
    for (const i of [1, 2, 3]) {
      const decided = decide(command.undelete(n(i)), state);
      if (E.isLeft(decided)) return expect.fail(decided.left.message);
      const restored = decided.right[0];
      if (restored?.type !== 'NodeRestored') return expect.fail('expected NodeRestored');
      given.push(restored.data.name);
      state = evolve(state, restored);
    }
    expect(given.map(nameProblem)).toEqual([null, null, null]);
    expect(new Set(given.map(nameKey)).size).toBe(3);
    for (const numbered of given) expect(nameKey(numbered).startsWith(nameStemKey(name)), numbered).toBe(true);
  });
});

describe('a folder with a file in the trash', () => {
  const given = [...tree, docsGone];

  it('puts the folder back with the file in it', () => spec.given(given).when(command.undelete(n(1))).then([event.nodeRestored(n(1), 'folder', 'docs')]));

  it('refuses to undelete the file on its own', () =>
    spec.given(given).when(command.undelete(n(2))).thenFails('not_in_trash', { nodeId: n(2), trashedBy: n(1) }));

  it('refuses to delete the file inside it', () => spec.given(given).when(command.delete(n(2))).thenFails('not_found', { nodeId: n(2) }));

  it('refuses the trashed folder itself as the place to put it back', () =>
    spec.given(given).when(command.undelete(n(1), { parentId: n(1) })).thenFails('not_found', { nodeId: n(1) }));
});

describe('a folder put back from the trash', () => {
  const given = [...tree, docsGone, event.nodeRestored(n(1), 'folder', 'docs')];

  it('has its file live again', () =>
    spec
      .given(given)
      .when(command.commitVersion({ fileId: n(2), versionId: v(9), baseVersionId: v(1), content: content('a9', 2) }))
      .then([event.versionCommitted({ fileId: n(2), versionId: v(9), baseVersionId: v(1), name: 'a.txt', parentId: n(1), content: content('a9', 2) })]));
});

describe('a file deleted before its folder', () => {
  const given = [...tree, fileGone, docsGone];

  it('goes back to the root while the folder is in the trash', () =>
    spec.given(given).when(command.undelete(n(2))).then([event.nodeRestored(n(2), 'file', 'a.txt', ROOT)]));

  it('goes back to the root, numbered, when the root holds its name', () =>
    spec
      .given([...given, event.folderCreated(n(5), 'A.txt')])
      .when(command.undelete(n(2)))
      .then([event.nodeRestored(n(2), 'file', 'a (1).txt', ROOT)]));

  it('goes back to the root once the folder is purged', () =>
    spec.given([...given, event.nodePurged(n(1))]).when(command.undelete(n(2))).then([event.nodeRestored(n(2), 'file', 'a.txt', ROOT)]));

  it('stays in the trash when the folder comes back', () =>
    spec
      .given([...given, event.nodeRestored(n(1), 'folder', 'docs')])
      .when(command.commitVersion({ fileId: n(2), versionId: v(9), baseVersionId: v(1), content: content('a9', 2) }))
      .thenFails('not_found'));

  it('goes back into the folder once the folder is back', () =>
    spec
      .given([...given, event.nodeRestored(n(1), 'folder', 'docs')])
      .when(command.undelete(n(2)))
      .then([event.nodeRestored(n(2), 'file', 'a.txt', n(1))]));
});

describe('a purged file', () => {
  const given = [...tree, fileGone, event.nodePurged(n(2))];

  it('cannot be undeleted', () => spec.given(given).when(command.undelete(n(2))).thenFails('not_found', { nodeId: n(2) }));

  it('cannot be deleted', () => spec.given(given).when(command.delete(n(2))).thenFails('not_found'));
});

describe('a file in the trash of a workspace that filled up again', () => {
  const given = [
    event.workspaceCreated(10),
    event.fileCreated({ fileId: n(1), versionId: v(1), name: 'old', content: content('o', 6) }),
    event.nodeDeleted(n(1), 'file', 'old'),
    event.fileCreated({ fileId: n(2), versionId: v(2), name: 'new', content: content('n', 5) }),
  ];

  it('refuses to put it back past the quota', () =>
    spec.given(given).when(command.undelete(n(1))).thenFails('quota_exceeded', { usedBytes: 5, quotaBytes: 10, requiredBytes: 6 }));

  it('refuses to put back a folder whose files would pass the quota', () =>
    spec
      .given([
        event.workspaceCreated(10),
        event.folderCreated(n(1), 'f'),
        event.fileCreated({ fileId: n(2), versionId: v(2), name: 'a', parentId: n(1), content: content('a', 4) }),
        event.fileCreated({ fileId: n(3), versionId: v(3), name: 'b', parentId: n(1), content: content('b', 4) }),
        event.nodeDeleted(n(1), 'folder', 'f'),
        event.fileCreated({ fileId: n(4), versionId: v(4), name: 'c', content: content('c', 3) }),
      ])
      .when(command.undelete(n(1)))
      .thenFails('quota_exceeded', { requiredBytes: 8 }));

  it('puts it back once there is room', () =>
    spec
      .given([...given, event.nodeDeleted(n(2), 'file', 'new')])
      .when(command.undelete(n(1)))
      .then([event.nodeRestored(n(1), 'file', 'old')]));
});
