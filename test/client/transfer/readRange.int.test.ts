import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRange } from '../../../src/client/transfer/download.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-read-range-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// Small ranges are read with synchronous calls, large ones through the promise API: the same answers.
describe.each([
  ['a small range', 1000],
  ['a large range', 300 * 1024],
])('%s of a file', (_label, size) => {
  const bytes = crypto.randomBytes(2 * size + 17);
  const file = path.join(dir, `f${size}`);
  fs.writeFileSync(file, bytes);

  it('is read whole at any offset', async () => {
    expect((await readRange(file, 0, size))?.equals(bytes.subarray(0, size))).toBe(true);
    expect((await readRange(file, size + 17, size))?.equals(bytes.subarray(size + 17))).toBe(true);
  });

  it('is null when the file is shorter than the range or gone', async () => {
    expect(await readRange(file, size + 18, size)).toBeNull();
    expect(await readRange(path.join(dir, 'missing'), 0, size)).toBeNull();
  });
});
