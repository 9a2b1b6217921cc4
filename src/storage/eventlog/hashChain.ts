import crypto from 'node:crypto';

/**
 * Tamper evidence for the log: every event records hash_n = SHA-256(hash_{n-1} || canonical bytes of
 * event n), hash_0 = GENESIS_HASH, per stream; es_streams.head_hash is the stream's last hash.
 * Changing, deleting or reordering a stored event changes every hash after it, so an auditor who
 * kept any later head (GET /v1/workspaces/{id}/audit/head) sees it.
 *
 * The canonical bytes are the UTF-8 of a JSON document with sorted keys and no whitespace, built here
 * at append time and rebuilt here, from the stored columns, by a verifier: jsonb reorders keys and
 * drops formatting, so hashing what was sent would not be reproducible from what is stored.
 * Migration 006 has the same encoding in SQL (es_canonical_json) to chain events stored before it.
 */

export const GENESIS_HASH: Buffer = Buffer.alloc(32);

const compareCodePoints = (a: string, b: string): number => {
  // UTF-16 order differs from code point order only around surrogates; SQL sorts by code point (COLLATE "C").
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(j) as number;
    if (x !== y) return x < y ? -1 : 1;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
};

const SURROGATE = /[\ud800-\udfff]/;
// Keys a JS object does not keep in insertion order (array-index-like ones come first, by number),
// and the one a plain assignment does not create: JSON.stringify cannot be handed those sorted.
const UNORDERED_KEY = /^\d+$|^__proto__$/;
const SLOW_PATH = Symbol('canonical JSON: slow path');

/** canonicalJson built by hand: any JSON (see canonicalJson). */
const canonicalJsonByHand = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
    return text;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJsonByHand((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += (i === 0 ? '' : ',') + (v === undefined || typeof v === 'function' ? 'null' : canonicalJsonByHand(v));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort(compareCodePoints);
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJsonByHand(v)}`;
    first = false;
  }
  return `${out}}`;
};

/** JSON.stringify's replacer that hands it each object with its keys in code point order. */
function sortedKeys(this: unknown, _key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let inOrder = true;
  let surrogates = false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (UNORDERED_KEY.test(key)) throw SLOW_PATH;
    if (SURROGATE.test(key)) surrogates = true;
    if (i > 0 && (keys[i - 1] as string) > key) inOrder = false;
  }
  if (inOrder && !surrogates) return value;
  keys.sort(surrogates ? compareCodePoints : undefined);
  const sorted: Record<string, unknown> = {};
  for (const key of keys) sorted[key] = record[key];
  return sorted;
}

/**
 * JSON with object keys sorted by code point and no whitespace; values as JSON.stringify writes them
 * (undefined members dropped, toJSON honoured). Numbers are JSON.stringify's shortest form.
 * JSON.stringify itself writes it, handed each object with sorted keys: a batch of 500 commits
 * builds 500 of these under the workspace's lock, and by hand they took ~25 us each. Keys with
 * surrogates sort by code point (UTF-16 order differs there); array-index-like keys, which an
 * object cannot hold in that order, go the hand-built way.
 */
export const canonicalJson = (value: unknown): string => {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, sortedKeys);
  } catch (error) {
    if (error === SLOW_PATH) return canonicalJsonByHand(value);
    throw error;
  }
  if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
  return text;
};

/** The fields of a stored event that its hash covers: everything but where the database put it. */
export interface HashedFields {
  readonly streamId: string;
  readonly version: number;
  readonly eventId: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: unknown;
  readonly metadata: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The canonical document of one event (Postgres prints a uuid in lowercase, so it is hashed that way). */
export const canonicalEvent = (e: HashedFields): string => {
  const eventId = e.eventId.toLowerCase();
  if (!UUID.test(eventId)) throw new TypeError(`event id ${e.eventId} is not a UUID in its canonical form`);
  return canonicalJson({
    data: e.data,
    eventId,
    metadata: e.metadata,
    schemaVersion: e.schemaVersion,
    streamId: e.streamId,
    type: e.type,
    version: e.version,
  });
};

/** hash_n from hash_{n-1} and event n's canonical document. */
export const chainHash = (previous: Buffer, canonical: string): Buffer =>
  crypto.createHash('sha256').update(previous).update(canonical, 'utf8').digest();
