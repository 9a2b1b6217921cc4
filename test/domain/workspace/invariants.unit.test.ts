import { describe, expect, it } from 'vitest';
import type { NodeId } from '../../../src/domain/ids.js';
import { fold } from '../../../src/domain/workspace/evolve.js';
import { invariantViolations } from '../../../src/domain/workspace/invariants.js';
import { initialState, type NodeView, type OpenWorkspace, type VersionView } from '../../../src/domain/workspace/state.js';
import { content, event, n, ROOT, v } from '../../support/spec.js';

// root/docs (n1)/a.txt (n2, 3 bytes), root/b.txt (n3, 4 bytes)
const workspace = fold(
  [
    event.workspaceCreated(),
    event.folderCreated(n(1), 'docs'),
    event.fileCreated({ fileId: n(2), versionId: v(1), name: 'a.txt', parentId: n(1), content: content('a', 3) }),
    event.fileCreated({ fileId: n(3), versionId: v(2), name: 'b.txt', content: content('b', 4) }),
  ],
  initialState(),
) as OpenWorkspace;

const node = (id: NodeId): NodeView => workspace.nodes.get(id) as NodeView;
const withNodes = (...changed: NodeView[]): OpenWorkspace => ({
  ...workspace,
  nodes: new Map([...workspace.nodes, ...changed.map((c): [NodeId, NodeView] => [c.nodeId, c])]),
});
const violations = (state: OpenWorkspace) => invariantViolations(state).join('\n');

describe('a workspace folded from valid events', () => {
  it('breaks no invariant', () => expect(invariantViolations(workspace)).toEqual([]));

  it('breaks none before it exists', () => expect(invariantViolations(initialState())).toEqual([]));
});

describe('a workspace with a broken root', () => {
  it('reports a missing root', () => {
    const nodes = new Map(workspace.nodes);
    nodes.delete(ROOT);
    expect(violations({ ...workspace, nodes })).toMatch(/root root is missing/);
  });

  it('reports a root with a parent', () => expect(violations(withNodes({ ...node(ROOT), parentId: n(1) }))).toMatch(/root root has parent n1/));

  it('reports a trashed root', () => expect(violations(withNodes({ ...node(ROOT), trashedBy: ROOT }))).toMatch(/root root is trashed/));

  it('reports a root that is a file', () => expect(violations(withNodes({ ...node(ROOT), kind: 'file' }))).toMatch(/root root is a file/));
});

describe('a workspace with a broken tree', () => {
  it('reports a live node under a file', () => expect(violations(withNodes({ ...node(n(2)), parentId: n(3) }))).toMatch(/n2 is under file n3/));

  it('reports a live node under a missing parent', () =>
    expect(violations(withNodes({ ...node(n(1)), parentId: n(9) }))).toMatch(/n1 has missing parent n9/));

  it('reports a live node under a trashed folder', () =>
    expect(violations(withNodes({ ...node(n(1)), trashedBy: n(1) }))).toMatch(/n2 is live under trashed or purged n1/));

  it('reports a live non-root node without a parent', () => expect(violations(withNodes({ ...node(n(1)), parentId: null }))).toMatch(/n1 is live without a parent/));

  it('reports a parent cycle', () => {
    const loop = withNodes({ ...node(n(1)), parentId: n(4) }, { ...node(n(1)), nodeId: n(4), name: 'loop', parentId: n(1) });
    expect(violations(loop)).toMatch(/n1 is in a parent cycle/);
  });

  it('reports siblings whose names collide', () =>
    expect(violations(withNodes({ ...node(n(3)), name: 'DOCS' }))).toMatch(/n1 and n3 collide as "docs" under root/));

  it('reports siblings whose names collide only under NFC', () => {
    const cafes = withNodes({ ...node(n(1)), name: 'caf\u00e9' }, { ...node(n(3)), name: 'cafe\u0301' });
    expect(violations(cafes)).toMatch(/collide/);
  });

  it('reports an invalid name', () => expect(violations(withNodes({ ...node(n(3)), name: 'a/b' }))).toMatch(/n3 has an invalid name \(slash\)/));

  it('does not hold trashed nodes to the live rules', () =>
    expect(invariantViolations({ ...withNodes({ ...node(n(3)), name: 'DOCS', trashedBy: n(3) }), usedBytes: 3 })).toEqual([]));
});

describe('a workspace with a broken file', () => {
  const file = node(n(3));
  const latest = file.versions.get(v(2)) as VersionView;

  it('reports a missing latest version', () =>
    expect(violations(withNodes({ ...file, latestVersionId: v(9) }))).toMatch(/file n3 has no latest version v9/));

  it('reports a purged latest version', () =>
    expect(violations(withNodes({ ...file, versions: new Map([[v(2), { ...latest, purged: true }]]) }))).toMatch(/latest version v2 is purged/));

  it("reports a size that is not the latest version's", () =>
    expect(violations({ ...withNodes({ ...file, size: 5 }), usedBytes: 8 })).toMatch(/file n3 has size 5, its latest version 4/));

  it("reports a version whose chunks do not add up to its size", () =>
    expect(violations(withNodes({ ...file, versions: new Map([[v(2), { ...latest, chunks: [] }]]) }))).toMatch(/version v2 has size 4, its chunks 0/));

  it('reports usedBytes that is not the sum of live files', () =>
    expect(violations({ ...workspace, usedBytes: 8 })).toMatch(/usedBytes is 8, live files hold 7/));
});

describe('a workspace with a broken trash', () => {
  it('reports a node trashed by a live node', () =>
    expect(violations({ ...withNodes({ ...node(n(3)), trashedBy: n(1) }), usedBytes: 3 })).toMatch(/n3 is trashed by n1, which is not a trash root/));

  it('reports a node trashed by a missing node', () =>
    expect(violations({ ...withNodes({ ...node(n(3)), trashedBy: n(9) }), usedBytes: 3 })).toMatch(/n3 is trashed by n9/));
});
