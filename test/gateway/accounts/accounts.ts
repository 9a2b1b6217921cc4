import crypto from 'node:crypto';
import { expect } from 'vitest';
import { hashPassword } from '../../../src/gateway/accounts/passwords.js';
import type { TestDatabase } from '../../support/db.js';
import type { api } from '../../support/gateway.js';

type Http = ReturnType<typeof api>;

export interface Session {
  readonly userId: string;
  readonly workspaceId: string;
  readonly deviceId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

export const freshEmail = (): string => `user-${crypto.randomBytes(6).toString('hex')}@example.com`;

/** Signs up a new account and returns its credentials and ids. */
export const signUp = async (http: Http, email = freshEmail(), password = 'correct horse battery') => {
  const res = await http.post('/v1/auth/signup', { email, password });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { email, password, userId: res.body.userId as string, workspaceId: res.body.workspaceId as string };
};

/** Logs in a new device. */
export const logIn = async (http: Http, email: string, password: string, deviceName = 'laptop'): Promise<Session> => {
  const res = await http.post('/v1/auth/login', { email, password, deviceName });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as unknown as Session;
};

/** A fresh account with one logged-in device. */
export const newAccount = async (http: Http, deviceName = 'laptop') => {
  const account = await signUp(http);
  return { ...account, device: await logIn(http, account.email, account.password, deviceName) };
};

/**
 * An account put straight into the database with a cheap scrypt hash (hashes carry their own
 * parameters), then logged in through the API: for tests about tokens and devices, where the
 * default cost of a signup would only make the suite slow. Its workspace id names no workspace.
 */
export const seedAccount = async (db: TestDatabase, http: Http, deviceName = 'laptop') => {
  const email = freshEmail();
  const password = 'correct horse battery';
  const userId = crypto.randomUUID();
  const workspaceId = crypto.randomUUID();
  await db.pool.query('INSERT INTO users (user_id, email, password_hash, workspace_id, created_at) VALUES ($1, $2, $3, $4, now())', [
    userId,
    email,
    await hashPassword(password, { logN: 10, r: 8, p: 1 }),
    workspaceId,
  ]);
  return { email, password, userId, workspaceId, device: await logIn(http, email, password, deviceName) };
};
