import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SyncedEntry } from '../../../src/client/state/model.js';
import { ClientState } from '../../../src/client/state/store.js';
import type { ChunkHash, NonNegativeInt } from '../../../src/domain/ids.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-journal-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const file = (nodeId: string, ino: number): SyncedEntry => ({
  kind: 'file',
  nodeId,
  versionId: `v-${nodeId}`,
  contentHash: 'c'.repeat(64),
  chunks: [{ hash: 'a'.repeat(64) as ChunkHash, size: 3 as NonNegativeInt, offset: 0 as NonNegativeInt }],
  stat: { size: 3, mtimeMs: 1, ino },
});

describe('the state journal', () => {
  it('gives back after a restart what was flushed, and nothing that was not', async () => {
    const dir = tempDir();
    const state = await ClientState.open(dir);
    state.setCursor(7);
    state.setSynced('a.txt', file('n1', 1));
    await state.flush();
    state.setSynced('b.txt', file('n2', 2));
    // No flush: the process dies here.
    const again = await ClientState.open(dir);
    expect(again.cursor).toBe(7);
    expect([...again.synced.keys()]).toEqual(['a.txt']);
    expect(again.chunks.locate('a'.repeat(64))).toEqual([{ path: 'a.txt', offset: 0, size: 3 }]);
  });

  it('drops a transaction cut short by a crash, and appends cleanly after it', async () => {
    const dir = tempDir();
    const state = await ClientState.open(dir);
    state.setCursor(1);
    await state.flush();
    state.setCursor(2);
    await state.flush();
    const log = fs.readdirSync(dir).find((n) => n.startsWith('journal-')) as string;
    const text = fs.readFileSync(path.join(dir, log), 'utf8');
    fs.writeFileSync(path.join(dir, log), text.slice(0, text.length - 5));
    const cut = await ClientState.open(dir);
    expect(cut.cursor).toBe(1);
    cut.setCursor(3);
    await cut.flush();
    expect((await ClientState.open(dir)).cursor).toBe(3);
  });

  it('folds the journal into a snapshot of the next generation', async () => {
    const dir = tempDir();
    const state = await ClientState.open(dir);
    state.setSynced('x/y.txt', file('n3', 3));
    state.setSynced('x', { kind: 'folder', nodeId: 'f1', ino: 9 });
    state.moveSynced('x', 'z');
    await state.compact();
    state.setCursor(11);
    await state.close();
    expect(fs.readdirSync(dir).sort()).toEqual(['journal-1.log', 'snapshot.json']);
    const again = await ClientState.open(dir);
    expect([...again.synced.keys()].sort()).toEqual(['z', 'z/y.txt']);
    expect(again.pathOfNode.get('n3')).toBe('z/y.txt');
    expect(again.cursor).toBe(11);
  });

  it('is read by a second process without being truncated under the writer', async () => {
    const dir = tempDir();
    const state = await ClientState.open(dir);
    state.setCursor(5);
    await state.flush();
    const log = path.join(dir, fs.readdirSync(dir).find((n) => n.startsWith('journal-')) as string);
    fs.appendFileSync(log, '[{"t":"cursor","v":6');
    const reader = await ClientState.open(dir, { readOnly: true });
    expect(reader.cursor).toBe(5);
    expect(fs.readFileSync(log, 'utf8').endsWith('"v":6')).toBe(true);
  });
});
