import type { GatewayDeps } from '../deps.js';
import { createCatalog, type Catalog } from './catalog.js';
import { createHoldings, type Holdings } from './holdings.js';
import { createChunkUrlSigner, type ChunkUrlSigner } from './signedUrls.js';

export interface TransferOptions {
  /**
   * Hand out presigned GET URLs of the blob store (S3) in download_request when it can make them,
   * so chunk bytes bypass the gateway. Default true; false when clients cannot reach the store.
   */
  readonly directDownloads?: boolean;
}

/** What every transfer route uses, built once from the gateway's dependencies. */
export interface TransferContext {
  readonly deps: GatewayDeps;
  readonly signer: ChunkUrlSigner;
  readonly holdings: Holdings;
  readonly catalog: Catalog;
  readonly directDownloads: boolean;
}

export const transferContext = (deps: GatewayDeps, options: TransferOptions): TransferContext => ({
  deps,
  signer: createChunkUrlSigner(deps.settings.secret),
  holdings: createHoldings(deps.pool),
  catalog: createCatalog(deps.pool),
  directDownloads: options.directDownloads ?? true,
});
