import * as t from 'io-ts';
import { IntString, NodeBody, NodeParams, OpaqueId, WorkspaceParams } from '../tree/codecs.js';

export { NodeBody, NodeParams, WorkspaceParams };

export const FileParams = t.type({ fileId: OpaqueId });

const Kind = t.keyof({ file: null, folder: null });

export const VersionsBody = t.type(
  {
    versions: t.array(
      t.intersection([
        t.type({ versionId: t.string, size: t.number, contentHash: t.string, createdAt: t.string, deviceId: t.union([t.string, t.null]) }),
        // restoredFrom: the version this one restored; purged: its bytes are gone (restore and download answer 410).
        t.partial({ modifiedAt: t.string, userId: t.string, restoredFrom: t.string, purged: t.literal(true) }),
      ], 'Version'),
    ),
  },
  'Versions',
);

export const RestoreBody = t.type({ versionId: OpaqueId }, 'Restore');
export const RestoreAnswer = t.type({ versionId: t.string, cursor: t.number }, 'Restored');

export const TrashBody = t.type(
  {
    items: t.array(
      t.intersection([
        t.type({ nodeId: t.string, kind: Kind, path: t.string, deletedAt: t.string, purgeAt: t.string }),
        t.partial({ name: t.string, parentId: t.string, deviceId: t.union([t.string, t.null]) }),
      ], 'TrashItem'),
    ),
  },
  'Trash',
);

/** Both optional: without them the node goes back where it was, under a free name ("x (1).txt") if that one is taken. */
export const UndeleteBody = t.union([t.undefined, t.null, t.partial({ parentId: t.union([OpaqueId, t.null]), name: t.union([t.string, t.null]) }, 'Undelete')]);

const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** An ISO-8601 timestamp ("2026-11-22T10:00:00Z", with or without milliseconds, Z or an offset); read it with momentOf. */
export const Moment = t.refinement(t.string, (s) => ISO_MOMENT.test(s) && !Number.isNaN(Date.parse(s)), 'IsoTimestamp');

export const momentOf = (s: t.TypeOf<typeof Moment>): Date => new Date(Date.parse(s));

/** depth: levels of children to include below the node at path (absent: all). */
export const TreeAtQuery = t.intersection([t.type({ at: Moment }), t.partial({ path: t.string, depth: IntString('depth', 0, 9999) })], 'TreeAtQuery');

const TreeNodeFields = t.intersection([
  t.type({ nodeId: t.string, kind: Kind, name: t.string, path: t.string, modifiedAt: t.string }),
  t.partial({ size: t.number, versionId: t.string, contentHash: t.string }),
]);

/**
 * The subtree at `path` as it was at `at`: `cursor` is the position in the workspace stream that
 * state stands at (the last event recorded at or before `at`). Folders carry `children`, ordered
 * by name as the children API orders them, each a node of this same shape; files carry size,
 * versionId and contentHash of the version they had then.
 */
export const TreeAtBody = t.type(
  {
    at: t.string,
    cursor: t.number,
    root: t.intersection([TreeNodeFields, t.partial({ children: t.array(t.intersection([TreeNodeFields, t.partial({ children: t.array(t.UnknownRecord) })], 'TreeNode')) })], 'TreeNode'),
  },
  'TreeAt',
);

export const RewindBody = t.intersection([t.type({ path: t.string, at: Moment }), t.partial({ dryRun: t.boolean })], 'Rewind');

/**
 * One change of a rewind. action: move (fromPath -> path), undelete, restore (a new version
 * versionId with the content of restoredFrom), trash (what was created or moved in since), or
 * unrecoverable (reason: purged, parent_purged, version_purged: retention already removed it).
 */
export const RewindChangeBody = t.intersection([
  t.type({ action: t.keyof({ move: null, undelete: null, restore: null, trash: null, unrecoverable: null }), nodeId: t.string, kind: Kind, path: t.string }),
  t.partial({ fromPath: t.string, versionId: t.string, restoredFrom: t.string, reason: t.string }),
], 'RewindChange');

export const RewindAnswer = t.type({ changes: t.array(RewindChangeBody), cursor: t.number, dryRun: t.boolean }, 'Rewound');
