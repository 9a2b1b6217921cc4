/** Why a name was refused; stable strings, surfaced in error details. */
export type NameProblem = 'empty' | 'too_long' | 'slash' | 'nul' | 'control_character' | 'dot_name' | 'invalid_unicode';

export const MAX_NAME_BYTES = 255;

// Counted by hand rather than with TextEncoder so lone surrogates (not encodable as UTF-8) are caught.
const utf8Length = (s: string): number | 'invalid' => {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return 'invalid';
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return 'invalid';
    else bytes += 3;
  }
  return bytes;
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0001-\u001f\u007f-\u009f]/;

/** A name is one path segment: 1..255 UTF-8 bytes, no '/', NUL or control characters, not '.' or '..'. */
export const nameProblem = (name: string): NameProblem | null => {
  if (name.length === 0) return 'empty';
  const bytes = utf8Length(name);
  if (bytes === 'invalid') return 'invalid_unicode';
  if (bytes > MAX_NAME_BYTES) return 'too_long';
  if (name.includes('/')) return 'slash';
  if (name.includes('\u0000')) return 'nul';
  if (CONTROL.test(name)) return 'control_character';
  if (name === '.' || name === '..') return 'dot_name';
  return null;
};

/**
 * The key two sibling names are compared by: NFC, then case folding. Upper-then-lower folds more
 * than toLowerCase alone ('ß' and 'SS' meet at 'ss'); NFC again because case mapping can denormalize.
 */
export const nameKey = (name: string): string =>
  name.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC');
