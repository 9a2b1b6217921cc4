import { describe, it } from 'vitest';
import type { NameProblem } from '../../../src/domain/names.js';
import { command, content, event, n, ROOT, spec, v } from '../../support/spec.js';

const refused: [NameProblem, string, string][] = [
  ['empty', 'the empty name', ''],
  ['too_long', '256 ASCII bytes', 'a'.repeat(256)],
  ['too_long', '86 three-byte characters (258 bytes)', '€'.repeat(86)],
  ['too_long', '64 emoji (256 bytes)', '📷'.repeat(64)],
  ['slash', 'a slash', 'a/b'],
  ['nul', 'a NUL', 'a\u0000b'],
  ['control_character', 'a bell', 'a\u0007b'],
  ['control_character', 'a tab', 'a\tb'],
  ['control_character', 'a newline', 'a\n'],
  ['control_character', 'DEL', '\u007f'],
  ['control_character', 'a C1 control', 'a\u0085b'],
  ['dot_name', '"."', '.'],
  ['dot_name', '".."', '..'],
  ['invalid_unicode', 'a lone high surrogate', 'a\ud800'],
  ['invalid_unicode', 'a lone low surrogate', '\udc00b'],
  ['invalid_unicode', 'swapped surrogates', '\udc00\ud800'],
];

const accepted: [string, string][] = [
  ['255 ASCII bytes', 'a'.repeat(255)],
  ['85 three-byte characters (255 bytes)', '€'.repeat(85)],
  ['an emoji', 'photo 📷.jpg'],
  ['three dots', '...'],
  ['a dotfile', '.env'],
  ['a name with spaces and dots', ' a b .c. '],
];

describe('an empty workspace', () => {
  const given = [event.workspaceCreated()];

  it.each(refused)('refuses a name with problem %s: %s', (reason, _what, name) =>
    spec.given(given).when(command.createFolder(n(1), name)).thenFails('invalid_name', { name, reason }),
  );

  it.each(accepted)('accepts %s', (_what, name) =>
    spec.given(given).when(command.createFolder(n(1), name)).then([event.folderCreated(n(1), name)]),
  );
});

describe('a folder with a file', () => {
  const given = [
    event.workspaceCreated(),
    event.folderCreated(n(1), 'docs'),
    event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) }),
  ];

  it('refuses an invalid name for a new file', () =>
    spec
      .given(given)
      .when(command.commitNewFile({ fileId: n(3), versionId: v(2), name: 'x/y', parentId: n(1), content: content('b', 1) }))
      .thenFails('invalid_name', { reason: 'slash' }));

  it('refuses an invalid name for a move', () => spec.given(given).when(command.move(n(2), n(1), '..')).thenFails('invalid_name', { reason: 'dot_name' }));

  it('refuses an invalid name for an undelete', () =>
    spec
      .given([...given, event.nodeDeleted(n(2), 'file', 'a.txt', n(1))])
      .when(command.undelete(n(2), { name: '' }))
      .thenFails('invalid_name', { reason: 'empty' }));
});

describe('a folder holding one name', () => {
  const holding = (name: string) => [event.workspaceCreated(), event.folderCreated(n(1), name)];

  it.each([
    ['a different case', 'Report.PDF', 'report.pdf'],
    ['NFC and NFD spellings', 'caf\u00e9', 'cafe\u0301'],
    ['NFD and NFC spellings', 'cafe\u0301', 'caf\u00e9'],
    ['NFD capital and NFC small', 'A\u0308rger', '\u00e4RGER'],
    ['full case folding (ß and SS)', 'straße', 'STRASSE'],
  ])('refuses a sibling differing only by %s', (_how, existing, name) =>
    spec.given(holding(existing)).when(command.createFolder(n(2), name)).thenFails('name_conflict', { existingNodeId: n(1) }),
  );

  it.each([
    ['accents', 'resume', 'résumé'],
    ['a trailing space', 'a', 'a '],
    ['an extension', 'notes', 'notes.txt'],
  ])('accepts a sibling differing by %s', (_how, existing, name) =>
    spec.given(holding(existing)).when(command.createFolder(n(2), name)).then([event.folderCreated(n(2), name)]),
  );

  it('accepts the same name in a subfolder', () =>
    spec.given(holding('docs')).when(command.createFolder(n(2), 'DOCS', n(1))).then([event.folderCreated(n(2), 'DOCS', n(1))]));

  it('keeps the spelling it was given', () =>
    spec.given(holding('x')).when(command.createFolder(n(2), 'cafe\u0301', ROOT)).then([event.folderCreated(n(2), 'cafe\u0301')]));
});
