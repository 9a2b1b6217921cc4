import * as t from 'io-ts';

// Branded ids: a NodeId cannot be passed where a WorkspaceId is expected.
const isOpaqueId = (s: string): boolean => s.length >= 1 && s.length <= 64 && /^[A-Za-z0-9_-]+$/.test(s);

interface WorkspaceIdBrand { readonly WorkspaceId: unique symbol }
export const WorkspaceId = t.brand(t.string, (s): s is t.Branded<string, WorkspaceIdBrand> => isOpaqueId(s), 'WorkspaceId');
export type WorkspaceId = t.TypeOf<typeof WorkspaceId>;
interface NodeIdBrand { readonly NodeId: unique symbol }
export const NodeId = t.brand(t.string, (s): s is t.Branded<string, NodeIdBrand> => isOpaqueId(s), 'NodeId');
export type NodeId = t.TypeOf<typeof NodeId>;
interface VersionIdBrand { readonly VersionId: unique symbol }
export const VersionId = t.brand(t.string, (s): s is t.Branded<string, VersionIdBrand> => isOpaqueId(s), 'VersionId');
export type VersionId = t.TypeOf<typeof VersionId>;
interface UserIdBrand { readonly UserId: unique symbol }
export const UserId = t.brand(t.string, (s): s is t.Branded<string, UserIdBrand> => isOpaqueId(s), 'UserId');
export type UserId = t.TypeOf<typeof UserId>;
interface DeviceIdBrand { readonly DeviceId: unique symbol }
export const DeviceId = t.brand(t.string, (s): s is t.Branded<string, DeviceIdBrand> => isOpaqueId(s), 'DeviceId');
export type DeviceId = t.TypeOf<typeof DeviceId>;

interface ChunkHashBrand {
  readonly ChunkHash: unique symbol;
}
/** Lowercase hex SHA-256 of a chunk's bytes. */
export const ChunkHash = t.brand(
  t.string,
  (s): s is t.Branded<string, ChunkHashBrand> => /^[0-9a-f]{64}$/.test(s),
  'ChunkHash',
);
export type ChunkHash = t.TypeOf<typeof ChunkHash>;

interface NonNegativeIntBrand {
  readonly NonNegativeInt: unique symbol;
}
export const NonNegativeInt = t.brand(
  t.number,
  (n): n is t.Branded<number, NonNegativeIntBrand> => Number.isSafeInteger(n) && n >= 0,
  'NonNegativeInt',
);
export type NonNegativeInt = t.TypeOf<typeof NonNegativeInt>;

interface IsoTimestampBrand {
  readonly IsoTimestamp: unique symbol;
}
const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/** ISO-8601 UTC timestamp with milliseconds, as produced by Date.prototype.toISOString. */
export const IsoTimestamp = t.brand(
  t.string,
  (s): s is t.Branded<string, IsoTimestampBrand> =>
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(s) &&
    // Parsing a given string, not reading the clock. Date.parse refuses month 13 or day 32 but
    // rolls 2026-02-31 over into March, so the day is checked against its month here.
    // eslint-disable-next-line no-restricted-globals
    !Number.isNaN(Date.parse(s)) &&
    Number(s.slice(8, 10)) <= daysInMonth(Number(s.slice(0, 4)), Number(s.slice(5, 7))),
  'IsoTimestamp',
);
export type IsoTimestamp = t.TypeOf<typeof IsoTimestamp>;
