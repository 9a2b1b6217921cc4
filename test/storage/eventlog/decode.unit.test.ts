import * as E from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { WorkspaceEvent } from '../../../src/domain/workspace/events.js';
import { decodeFast, decodeOrReport, decodeStored } from '../../../src/storage/eventlog/decode.js';
import { EventDecodeError } from '../../../src/storage/eventlog/errors.js';
import { EventActor, EventMetadata } from '../../../src/storage/eventlog/types.js';
import { workspaceEventSchema } from '../../../src/storage/eventlog/workspaceSchema.js';

// The combinators whose decode is the identity on every value their guard accepts (no stripping,
// no conversion): what decodeFast relies on. t.exact/t.strict (strip extra keys) or a codec that
// converts (a Date from a string, say) would make the guard's answer differ from decode's.
const IDENTITY_TAGS = new Set([
  'InterfaceType', 'PartialType', 'UnionType', 'IntersectionType', 'LiteralType', 'RefinementType',
  'ArrayType', 'ReadonlyArrayType', 'ReadonlyType', 'StringType', 'NumberType', 'BooleanType', 'NullType', 'KeyofType',
]);

const nonIdentity = (codec: t.Mixed, path: string): string[] => {
  const c = codec as t.Mixed & { _tag?: string; props?: Record<string, t.Mixed>; types?: t.Mixed[]; type?: t.Mixed };
  if (c._tag === undefined || !IDENTITY_TAGS.has(c._tag)) return [`${path}: ${c._tag ?? c.name}`];
  const children: [string, t.Mixed][] = [
    ...Object.entries(c.props ?? {}),
    ...(c.types ?? []).map((x, i): [string, t.Mixed] => [`|${i}`, x]),
    ...(c.type === undefined ? [] : [['[]', c.type] as [string, t.Mixed]]),
  ];
  return children.flatMap(([k, child]) => nonIdentity(child, `${path}.${k}`));
};

const at = '2026-11-22T10:00:00.000Z';
const actor = { at, userId: 'u1', deviceId: null };
const metadata = { ...actor, correlationId: 'c', causationId: null };

describe('decoding stored events and metadata, guard first', () => {
  it('the event and metadata codecs are built only of combinators that decode to the value itself', () => {
    expect(nonIdentity(WorkspaceEvent, 'WorkspaceEvent')).toEqual([]);
    expect(nonIdentity(EventMetadata, 'EventMetadata')).toEqual([]);
    expect(nonIdentity(EventActor, 'EventActor')).toEqual([]);
  });

  it('gives the valid value itself, as decode does', () => {
    const data = { type: 'FolderCreated', data: { nodeId: 'n1', parentId: 'root', name: 'A' } };
    expect(WorkspaceEvent.is(data)).toBe(true);
    expect(decodeFast(WorkspaceEvent, data)).toEqual(E.right(data));
    expect((decodeFast(WorkspaceEvent, data) as E.Right<unknown>).right).toBe(data);
    expect(decodeOrReport(EventMetadata, metadata)).toEqual(E.right(metadata));
  });

  it("refuses what decode refuses, with decode's report", () => {
    const bad = { ...metadata, at: '2026-02-31T00:00:00.000Z' };
    expect(E.isLeft(EventMetadata.decode(bad))).toBe(true);
    expect(E.isLeft(decodeFast(EventMetadata, bad))).toBe(true);
    const report = decodeOrReport(EventMetadata, bad);
    expect(E.isLeft(report) && report.left).toMatch(/IsoTimestamp/);
  });

  it('a stored event that no longer fits its codec is an EventDecodeError naming where it is', () => {
    const where = { streamId: 'workspace-w1', version: 7 };
    expect(() => decodeStored(workspaceEventSchema, where, 'FolderCreated', 1, { nodeId: 'n1', parentId: 'root' })).toThrow(EventDecodeError);
    expect(() => decodeStored(workspaceEventSchema, where, 'FolderCreated', 1, { nodeId: 'n1', parentId: 'root' })).toThrow(/workspace-w1@7.*name/);
  });
});
