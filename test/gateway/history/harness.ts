import type { GatewaySettings } from '../../../src/gateway/deps.js';
import type { TestDatabase } from '../../support/db.js';
import { chunksOf, movableClock, startTransfersGateway, type Account, type Answer } from '../transfers/harness.js';

/** Text as a file's bytes: small, one chunk unless long. */
export const bytesOf = (text: string): Buffer => Buffer.from(text, 'utf8');

/**
 * A gateway on a clock that runs with the real one but can be moved ahead (retention, moments),
 * with the tree and history calls of api-v1.md as one-liners that fail loudly on an unexpected status.
 */
export const startHistoryGateway = async (db: TestDatabase, settings: Partial<GatewaySettings> = {}) => {
  const clock = movableClock();
  const t = await startTransfersGateway(db, { now: clock.now, settings });
  const expectStatus = (answer: Answer, status: number, what: string): Answer => {
    if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer;
  };
  const api = {
    folder: async (a: Account, parentId: string, name: string): Promise<string> =>
      expectStatus(await t.call('POST', '/v1/folders', a, { workspaceId: a.workspaceId, parentId, name }), 201, `folder ${name}`).body.nodeId as string,
    /** A new file with text as its content: its id and version. */
    file: async (a: Account, parentId: string, name: string, text: string) => {
      const r = await t.upload(a, parentId, name, chunksOf(bytesOf(text), 4096));
      return { fileId: r.fileId, versionId: r.versionId };
    },
    /** A new version of a file; answers the new version id. */
    edit: async (a: Account, file: { fileId: string; versionId: string }, parentId: string, name: string, text: string): Promise<string> =>
      (await t.upload(a, parentId, name, chunksOf(bytesOf(text), 4096), { fileId: file.fileId, baseVersionId: file.versionId })).versionId,
    move: async (a: Account, nodeId: string, parentId: string, name: string) =>
      expectStatus(await t.call('POST', `/v1/nodes/${nodeId}/move`, a, { parentId, name }), 200, `move ${nodeId}`).body,
    remove: async (a: Account, nodeId: string) => expectStatus(await t.call('DELETE', `/v1/nodes/${nodeId}`, a), 200, `delete ${nodeId}`).body,
    node: (a: Account, nodeId: string) => t.call('GET', `/v1/nodes/${nodeId}`, a),
    lookup: (a: Account, path: string) => t.call('GET', `/v1/workspaces/${a.workspaceId}/lookup?path=${encodeURIComponent(path)}`, a),
    /** Every live child of a folder, all pages. */
    children: async (a: Account, nodeId: string): Promise<Array<Record<string, unknown>>> => {
      const out: Array<Record<string, unknown>> = [];
      let after: string | undefined;
      do {
        const page = expectStatus(await t.call('GET', `/v1/nodes/${nodeId}/children?limit=2${after === undefined ? '' : `&after=${after}`}`, a), 200, 'children');
        out.push(...(page.body.items as Array<Record<string, unknown>>));
        after = page.body.next as string | undefined;
      } while (after !== undefined);
      return out;
    },
    content: async (a: Account, fileId: string, versionId?: string) =>
      t.getBytes(`/v1/files/${fileId}/content${versionId === undefined ? '' : `?versionId=${versionId}`}`, a),
    versions: (a: Account, fileId: string) => t.call('GET', `/v1/files/${fileId}/versions`, a),
    restore: (a: Account, fileId: string, versionId: string) => t.call('POST', `/v1/files/${fileId}/restore`, a, { versionId }),
    trash: (a: Account) => t.call('GET', `/v1/workspaces/${a.workspaceId}/trash`, a),
    undelete: (a: Account, nodeId: string, body: Record<string, unknown> = {}) => t.call('POST', `/v1/nodes/${nodeId}/undelete`, a, body),
    treeAt: (a: Account, at: string, path = '/') => t.call('GET', `/v1/workspaces/${a.workspaceId}/tree?at=${encodeURIComponent(at)}&path=${encodeURIComponent(path)}`, a),
    rewind: (a: Account, body: { path: string; at: string; dryRun?: boolean }) => t.call('POST', `/v1/workspaces/${a.workspaceId}/rewind`, a, body),
    changes: async (a: Account, cursor: number) => t.call('GET', `/v1/workspaces/${a.workspaceId}/changes?cursor=${cursor}`, a),
  };
  return { ...t, clock, api, expectStatus };
};

export type HistoryGateway = Awaited<ReturnType<typeof startHistoryGateway>>;
