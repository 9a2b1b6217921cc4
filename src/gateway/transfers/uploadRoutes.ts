import type { FastifyInstance } from 'fastify';
import { chunkTotal } from '../../domain/chunks.js';
import { NodeId, type ChunkHash } from '../../domain/ids.js';
import { nameProblem } from '../../domain/names.js';
import { ApiError } from '../http/errors.js';
import { knownId } from '../http/ids.js';
import { defineRoute, sameWorkspace } from '../http/route.js';
import { UploadRequestAnswer, UploadRequestBody, type ChunkDescriptor } from './codecs.js';
import type { TransferContext } from './context.js';
import { publicBase, transferExpiry } from './signedUrls.js';

/** Chunk lists of very large files do not fit the default 1 MiB JSON limit (a chunk is ~90 bytes of JSON). */
export const CHUNK_LIST_BODY_LIMIT = 16 * 1024 * 1024;

/** Sizes that add up and a valid name: checked before anything is looked up, so bad input costs nothing. */
export const checkFileShape = (chunks: readonly ChunkDescriptor[], size: number, sizeField: string, name: string, nameField: string): void => {
  const total = chunkTotal(chunks);
  if (total !== size)
    throw new ApiError('invalid_request', `The chunks add up to ${total} bytes, not ${size}.`, { field: sizeField, reason: 'size_mismatch', size, chunkTotal: total });
  const problem = nameProblem(name);
  if (problem !== null)
    throw new ApiError('invalid_request', `Invalid name: ${problem.replace(/_/g, ' ')}.`, { field: nameField, reason: 'invalid_name', problem });
};

export const distinctHashes = (chunks: readonly ChunkDescriptor[]): ChunkHash[] => [...new Set(chunks.map((c) => c.hash))];

export const uploadRoutes = (app: FastifyInstance, ctx: TransferContext): void => {
  const { deps, holdings, catalog, signer } = ctx;
  defineRoute(
    app,
    deps.authenticator,
    {
      method: 'POST',
      url: '/v1/files/upload_request',
      summary: 'Start an upload: which chunks the workspace lacks, and where to PUT each of them',
      tags: ['files'],
      auth: true,
      body: UploadRequestBody,
      responses: { 200: UploadRequestAnswer },
      options: { bodyLimit: CHUNK_LIST_BODY_LIMIT },
    },
    async ({ body, auth, request }) => {
      sameWorkspace(auth, body.workspaceId);
      const workspaceId = auth.workspaceId;
      checkFileShape(body.chunks, body.fileSize, 'body.fileSize', body.fileName, 'body.fileName');
      const parentId = knownId(NodeId, body.parentId, 'No such folder.');
      const { quotaBytes } = await catalog.uploadTarget(workspaceId, parentId);
      // No version of the file could ever be committed: refuse before any byte is sent.
      if (body.fileSize > quotaBytes)
        throw new ApiError('quota_exceeded', 'This file is larger than the workspace storage quota.', { quotaBytes, requiredBytes: body.fileSize });
      const now = deps.now();
      const expiresAt = transferExpiry(deps.settings, now);
      const hashes = distinctHashes(body.chunks);
      const held = await holdings.held(workspaceId, hashes, now);
      const missing = hashes.filter((h) => !held.has(h));
      const uploadId = deps.newId();
      await deps.pool.query({
        name: 'transfers_record_upload',
        text: `INSERT INTO uploads (upload_id, workspace_id, parent_id, file_name, file_size, chunk_count, missing_count, user_id, device_id, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
        values: [uploadId, workspaceId, parentId, body.fileName, body.fileSize, body.chunks.length, missing.length, auth.userId, auth.deviceId, now, expiresAt],
      });
      const base = publicBase(deps.settings, request);
      return {
        uploadId,
        missing,
        uploadUrls: Object.fromEntries(missing.map((hash) => [hash, signer.sign('PUT', base, workspaceId, hash, expiresAt)])),
        expiresAt: expiresAt.toISOString(),
      };
    },
  );
};
