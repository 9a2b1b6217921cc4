import crypto from 'node:crypto';
import { promisify } from 'node:util';

// scrypt from node:crypto rather than argon2: memory-hard, well reviewed, and nothing native to
// build or ship. The parameters are stored with each hash, so they can be raised later and old
// hashes still verify.
const scrypt = promisify(crypto.scrypt) as (password: string | Buffer, salt: Buffer, keylen: number, options: crypto.ScryptOptions) => Promise<Buffer>;

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  readonly logN: number;
  readonly r: number;
  readonly p: number;
}

/** N = 2^15, r = 8, p = 1: 32 MiB and some tens of milliseconds per hash. */
export const DEFAULT_SCRYPT_PARAMS: ScryptParams = { logN: 15, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
// PHC string format: $scrypt$ln=15,r=8,p=1$<salt>$<hash>, both base64url without padding.
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

const derive = (password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> => {
  const N = 2 ** params.logN;
  // Node refuses more than 32 MiB by default, which N = 2^15, r = 8 needs exactly: allow twice that.
  return scrypt(password.normalize('NFC'), salt, keyLength, { N, r: params.r, p: params.p, maxmem: 2 * 128 * N * params.r * params.p + 1024 * 1024 });
};

/** A PHC-formatted scrypt hash of the password with a fresh random salt; runs on the libuv pool, not the event loop. */
export const hashPassword = async (password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> => {
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
};

/** True when the password matches the stored hash; false for a wrong password or a hash it cannot read. */
export const verifyPassword = async (password: string, stored: string): Promise<boolean> => {
  const m = PHC.exec(stored);
  if (m === null) return false;
  const params: ScryptParams = { logN: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Bounds on what we ever write, so a corrupted row cannot make one login allocate gigabytes.
  if (params.logN < 10 || params.logN > 20 || params.r < 1 || params.r > 16 || params.p < 1 || params.p > 4) return false;
  const salt = Buffer.from(m[4] as string, 'base64url');
  const expected = Buffer.from(m[5] as string, 'base64url');
  const actual = await derive(password, salt, params, KEY_BYTES);
  return crypto.timingSafeEqual(actual, expected);
};
