import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { WorkspaceId, type ChunkHash } from '../../domain/ids.js';
import type { GatewaySettings } from '../deps.js';
import { ApiError } from '../http/errors.js';

/** The contract's ceiling for transfer URLs. */
export const MAX_TRANSFER_URL_SECONDS = 600;

export type TransferMethod = 'PUT' | 'GET';

/** The query string of a signed URL as received: w (workspace), e (expiry, unix seconds), s (signature). */
export interface SignedQuery {
  readonly w: string;
  readonly e: string;
  readonly s: string;
}

export interface ChunkUrlSigner {
  /** `<base>/v1/chunks/<hash>?w=<workspace>&e=<unix expiry>&s=<signature>`, valid for method until expiresAt. */
  sign(method: TransferMethod, base: string, workspaceId: WorkspaceId, hash: ChunkHash, expiresAt: Date): string;
  /**
   * The workspace a URL's query grants access for; 403 forbidden unless the signature is ours, for
   * this method, workspace and hash, and not expired.
   */
  verify(method: TransferMethod, hash: ChunkHash, query: SignedQuery, now: Date): WorkspaceId;
}

// The service secret also signs access tokens: a key derived for this one purpose means an
// access token's signature can never pass for a transfer URL's, whatever the two formats become.
const derivedKey = (secret: Buffer): Buffer => crypto.createHmac('sha256', secret).update('strata/transfer-urls/v1').digest();

export const createChunkUrlSigner = (secret: Buffer): ChunkUrlSigner => {
  const key = derivedKey(secret);
  const mac = (method: TransferMethod, workspaceId: string, hash: string, expiry: string): Buffer =>
    crypto.createHmac('sha256', key).update(`${method}\n${workspaceId}\n${hash}\n${expiry}`).digest();
  return {
    sign: (method, base, workspaceId, hash, expiresAt) => {
      const expiry = String(Math.floor(expiresAt.getTime() / 1000));
      const query = new URLSearchParams({ w: workspaceId, e: expiry, s: mac(method, workspaceId, hash, expiry).toString('base64url') });
      return `${base}/v1/chunks/${hash}?${query.toString()}`;
    },
    verify: (method, hash, { w: workspaceId, e: expiry, s: signature }, now) => {
      const expected = mac(method, workspaceId, hash, expiry);
      const given = /^[A-Za-z0-9_-]{43}$/.test(signature) ? Buffer.from(signature, 'base64url') : Buffer.alloc(0);
      if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
        throw new ApiError('forbidden', 'This transfer URL is not valid.', { reason: 'bad_signature' });
      if (!/^\d{1,12}$/.test(expiry) || Number(expiry) * 1000 < now.getTime())
        throw new ApiError('forbidden', 'This transfer URL has expired; ask for a new one.', { reason: 'expired' });
      if (!WorkspaceId.is(workspaceId)) throw new Error('unreachable: only workspace ids are ever signed');
      return workspaceId;
    },
  };
};

/** How long transfer URLs handed out now stay valid: the configured TTL, never past the contract's 10 minutes. */
export const transferExpiry = (settings: GatewaySettings, now: Date): Date => {
  const ttlSeconds = Math.max(1, Math.min(settings.transferUrlTtlSeconds, MAX_TRANSFER_URL_SECONDS));
  // Whole seconds, as signed URLs carry them: the expiresAt a client is told is the one enforced.
  return new Date(Math.floor(now.getTime() / 1000 + ttlSeconds) * 1000);
};

/** Where devices reach this service: the configured public URL, else what this request was sent to. */
export const publicBase = (settings: GatewaySettings, request: FastifyRequest): string =>
  settings.publicUrl !== null ? settings.publicUrl.replace(/\/+$/, '') : `${request.protocol}://${request.host}`;
