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

/**
 * JSON with object keys sorted by code point and no whitespace; values as JSON.stringify writes them
 * (undefined members dropped, toJSON honoured). Numbers are JSON.stringify's shortest form.
 * Written as loops over keys, not entries/filter/map/join: a batch of 500 commits builds 500 of
 * these under the workspace's lock. Keys without surrogates (all of Strata's) sort the same by
 * UTF-16 unit as by code point, so the default sort serves them.
 */
export const canonicalJson = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
    return text;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += (i === 0 ? '' : ',') + (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v));
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.some((k) => SURROGATE.test(k))) keys.sort(compareCodePoints);
  else keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined || typeof v === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
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
