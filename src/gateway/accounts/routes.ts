import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { DeviceId, UserId, WorkspaceId } from '../../domain/ids.js';
import { CreateWorkspace } from '../../domain/workspace/commands.js';
import type { RouteModule } from '../deps.js';
import type { AuthContext } from '../http/auth.js';
import { ApiError, fromCommandError } from '../http/errors.js';
import { defineRoute } from '../http/route.js';
import {
  DeviceParams,
  DevicesAnswer,
  LoginAnswer,
  LoginBody,
  normalizeEmail,
  RefreshBody,
  SignupAnswer,
  SignupBody,
  TokenPair,
} from './codecs.js';
import { hashPassword, verifyPassword, type ScryptParams } from './passwords.js';
import { createDevice, emailTaken, findUserByEmail, insertUser, listDevices, revokeDevice, rotateRefreshToken } from './repository.js';
import { hashRefreshToken, newRefreshToken, signAccessToken } from './tokens.js';

/** What the routes share with the rest of the accounts module. */
export interface AccountRoutesContext {
  /** The access-token key derived from the service secret. */
  readonly key: Buffer;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly passwordParams: ScryptParams;
  /** A hash of no one's password: an unknown email costs the same scrypt run as a wrong password. */
  readonly decoyHash: Promise<string>;
  /** Tells the process that a device was revoked (after the revocation is committed); resolves once every node knows. */
  readonly deviceRevoked: (deviceId: string, workspaceId: string) => Promise<void>;
  /** Writes the changes-feed pulls still held in memory, so the device list shows them. */
  readonly flushPulls?: () => Promise<void>;
}

const Who = t.type({ userId: UserId, workspaceId: WorkspaceId, deviceId: DeviceId });

/** Values this server generated or stored itself, typed through their codec rather than cast. */
const trusted = <A>(codec: t.Decoder<unknown, A>, value: unknown): A => {
  const result = codec.decode(value);
  if (E.isLeft(result)) throw new Error(`internal value does not match ${codec.name}`);
  return result.right;
};

const emailTakenError = () => new ApiError('email_taken', 'An account with this email already exists.', { field: 'body.email' });
// One message for an unknown email and a wrong password: the answer is no account-existence oracle.
const wrongCredentials = () => new ApiError('unauthorized', 'Wrong email or password.');
const badRefreshToken = () => new ApiError('unauthorized', 'The refresh token is invalid, expired or revoked.');

const TAGS = ['accounts'];

export const accountRoutes =
  (ctx: AccountRoutesContext): RouteModule =>
  (app, deps) => {
    const tokens = (who: AuthContext, now: Date, refreshToken: string) => ({
      accessToken: signAccessToken(ctx.key, who, now, ctx.accessTokenTtlSeconds),
      refreshToken,
      expiresIn: ctx.accessTokenTtlSeconds,
    });
    const refreshExpiry = (now: Date) => new Date(now.getTime() + ctx.refreshTokenTtlSeconds * 1000);

    defineRoute(
      app,
      deps.authenticator,
      { method: 'POST', url: '/v1/auth/signup', summary: 'Create an account and its workspace', tags: TAGS, auth: false, body: SignupBody, responses: { 201: SignupAnswer } },
      async ({ body, request, reply }) => {
        const email = normalizeEmail(body.email);
        // Checked first so that a taken email costs neither a hash nor a workspace.
        if (await emailTaken(deps.pool, email)) throw emailTakenError();
        const passwordHash = await hashPassword(body.password, ctx.passwordParams);
        const userId = deps.newId();
        const workspaceId = deps.newId();
        const now = deps.now();
        // The workspace first, the user row last: a failure in between leaves no user without a
        // workspace and the email free for a retry. Only a lost race for the same email leaves an
        // empty workspace whose owner never came to exist (unreachable: no one can log in to it).
        const created = await deps.handle(
          trusted(CreateWorkspace, {
            type: 'CreateWorkspace',
            workspaceId,
            data: { rootId: deps.newId(), ownerId: userId, quotaBytes: deps.settings.defaultQuotaBytes },
            metadata: { now: now.toISOString(), userId, deviceId: null, correlationId: request.id },
          }),
        );
        if (E.isLeft(created)) throw fromCommandError(created.left);
        if (!(await insertUser(deps.pool, { userId, email, passwordHash, workspaceId, at: now }))) throw emailTakenError();
        void reply.code(201);
        return { userId, workspaceId };
      },
    );

    defineRoute(
      app,
      deps.authenticator,
      { method: 'POST', url: '/v1/auth/login', summary: 'Sign in a new device', tags: TAGS, auth: false, body: LoginBody, responses: { 200: LoginAnswer } },
      async ({ body }) => {
        const user = await findUserByEmail(deps.pool, normalizeEmail(body.email));
        const matches = await verifyPassword(body.password, user?.passwordHash ?? (await ctx.decoyHash));
        if (user === null || !matches) throw wrongCredentials();
        const now = deps.now();
        const who = trusted(Who, { userId: user.userId, workspaceId: user.workspaceId, deviceId: deps.newId() });
        const refreshToken = newRefreshToken();
        await createDevice(
          deps.pool,
          { deviceId: who.deviceId, userId: who.userId, workspaceId: who.workspaceId, name: body.deviceName.trim(), at: now },
          { hash: hashRefreshToken(refreshToken), expiresAt: refreshExpiry(now) },
        );
        return { ...who, ...tokens(who, now, refreshToken) };
      },
    );

    defineRoute(
      app,
      deps.authenticator,
      { method: 'POST', url: '/v1/auth/refresh', summary: 'Exchange a refresh token for new tokens (rotation)', tags: TAGS, auth: false, body: RefreshBody, responses: { 200: TokenPair } },
      async ({ body }) => {
        const now = deps.now();
        const next = newRefreshToken();
        const outcome = await rotateRefreshToken(deps.pool, hashRefreshToken(body.refreshToken), { hash: hashRefreshToken(next), expiresAt: refreshExpiry(now) }, now);
        switch (outcome.kind) {
          case 'invalid':
            throw badRefreshToken();
          case 'reused':
            await ctx.deviceRevoked(outcome.deviceId, outcome.workspaceId);
            throw new ApiError('unauthorized', 'The refresh token was already used; the device has been signed out.');
          case 'rotated':
            return tokens(trusted(Who, outcome), now, next);
          default: {
            const _exhaustive: never = outcome;
            return _exhaustive;
          }
        }
      },
    );

    defineRoute(
      app,
      deps.authenticator,
      { method: 'GET', url: '/v1/devices', summary: "The caller's signed-in devices", tags: TAGS, auth: true, responses: { 200: DevicesAnswer } },
      async ({ auth }) => {
        await ctx.flushPulls?.();
        return { devices: await listDevices(deps.pool, auth.userId) };
      },
    );

    defineRoute(
      app,
      deps.authenticator,
      { method: 'DELETE', url: '/v1/devices/:deviceId', summary: 'Sign a device out; its tokens stop working at once', tags: TAGS, auth: true, params: DeviceParams, responses: { 204: null } },
      async ({ auth, params, reply }) => {
        const workspaceId = await revokeDevice(deps.pool, auth.userId, params.deviceId, deps.now());
        if (workspaceId === null) throw new ApiError('not_found', 'No such device.');
        await ctx.deviceRevoked(params.deviceId, workspaceId);
        return reply.code(204).send();
      },
    );
  };
