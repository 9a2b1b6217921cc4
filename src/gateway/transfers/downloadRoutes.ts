import type { FastifyInstance } from 'fastify';
import type * as t from 'io-ts';
import { NodeId, VersionId, type ChunkHash, type WorkspaceId } from '../../domain/ids.js';
import { knownId } from '../http/ids.js';
import { defineRoute } from '../http/route.js';
import { storeCall } from './blobCalls.js';
import { DownloadAnswer, FileParams, VersionQuery } from './codecs.js';
import type { TransferContext } from './context.js';
import { segmentsOf } from './ranges.js';
import { sendBytes } from './sendBytes.js';
import { publicBase, transferExpiry } from './signedUrls.js';

type Params = t.TypeOf<typeof FileParams>;
type Query = t.TypeOf<typeof VersionQuery>;

export const downloadRoutes = (app: FastifyInstance, ctx: TransferContext): void => {
  const { deps, catalog, signer } = ctx;
  const presign = ctx.directDownloads ? deps.blobs.presign : undefined;

  /** A URL for each distinct chunk: presigned by the store when it can, else signed for this gateway. */
  const chunkUrls = async (hashes: readonly ChunkHash[], workspaceId: WorkspaceId, base: string): Promise<Map<ChunkHash, string>> => {
    const now = deps.now();
    const expiresAt = transferExpiry(deps.settings, now);
    const urls = new Map<ChunkHash, string>();
    for (const hash of new Set(hashes)) {
      const url =
        presign === undefined
          ? signer.sign('GET', base, workspaceId, hash, expiresAt)
          : await storeCall(() => presign.getUrl(hash, Math.floor((expiresAt.getTime() - now.getTime()) / 1000)));
      urls.set(hash, url);
    }
    return urls;
  };

  const downloadable = (workspaceId: WorkspaceId, params: Params, query: Query) =>
    catalog.downloadable(
      workspaceId,
      knownId(NodeId, params.fileId, 'No such file.'),
      query.versionId === undefined ? undefined : knownId(VersionId, query.versionId, 'No such version of this file.'),
    );

  defineRoute<Params, Query>(
    app,
    deps.authenticator,
    {
      method: 'GET',
      url: '/v1/files/:fileId/download_request',
      summary: "Where to GET each chunk of a file version (the latest when versionId is absent); URLs expire within 10 minutes",
      tags: ['files'],
      auth: true,
      params: FileParams,
      query: VersionQuery,
      responses: { 200: DownloadAnswer },
    },
    async ({ params, query, auth, request }) => {
      const version = await downloadable(auth.workspaceId, params, query);
      const urls = await chunkUrls(version.chunks.map((c) => c.hash), auth.workspaceId, publicBase(deps.settings, request));
      return {
        versionId: version.versionId,
        size: version.size,
        chunks: version.chunks.map((c) => ({ hash: c.hash, size: c.size, url: urls.get(c.hash) ?? '' })),
      };
    },
  );

  defineRoute<Params, Query>(
    app,
    deps.authenticator,
    {
      method: 'GET',
      url: '/v1/files/:fileId/content',
      summary: "A file version's bytes, streamed (the latest when versionId is absent); supports a single Range",
      tags: ['files'],
      auth: true,
      params: FileParams,
      query: VersionQuery,
      responses: { 200: null, 206: null },
    },
    async ({ params, query, auth, request, reply }) => {
      const version = await downloadable(auth.workspaceId, params, query);
      void reply.header('cache-control', 'private, no-cache');
      return sendBytes(request, reply, deps.blobs, {
        size: version.size,
        etag: `"${version.contentHash}"`,
        segments: (start, end) => segmentsOf(version.chunks, start, end),
      });
    },
  );
};
