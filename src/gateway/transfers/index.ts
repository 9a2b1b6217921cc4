import type { RouteModule } from '../deps.js';
import { chunkBatchRoutes } from './chunkBatchRoutes.js';
import { chunkRoutes } from './chunkRoutes.js';
import { commitBatchRoute } from './commitBatchRoute.js';
import { commitRoute } from './commitRoute.js';
import { transferContext, type TransferOptions } from './context.js';
import { downloadRoutes } from './downloadRoutes.js';
import { uploadRoutes } from './uploadRoutes.js';

export type { TransferOptions } from './context.js';

/**
 * Upload (upload_request, chunk PUTs, commit) and download (download_request, chunk GETs, content)
 * of api-v1.md. Chunks are held per workspace: bytes are stored once, but a workspace only counts
 * a chunk as its own after sending it and having it hashed, or when its versions reference it.
 */
export const transferRoutes =
  (options: TransferOptions = {}): RouteModule =>
  async (app, deps) => {
    const ctx = transferContext(deps, options);
    uploadRoutes(app, ctx);
    commitRoute(app, ctx);
    commitBatchRoute(app, ctx);
    downloadRoutes(app, ctx);
    await chunkRoutes(app, ctx);
    await chunkBatchRoutes(app, ctx);
  };
