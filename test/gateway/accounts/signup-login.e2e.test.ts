import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { api, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { freshEmail, logIn, signUp } from './accounts.js';

describe('signing up and logging in', () => {
  let db: TestDatabase;
  let gw: TestGateway;
  let http: ReturnType<typeof api>;
  beforeAll(async () => {
    db = await createTestDatabase();
    gw = await startTestGateway(db, { settings: { defaultQuotaBytes: 5_000_000 } });
    http = api(gw.url);
  });
  afterAll(async () => {
    await gw.close();
    await db.drop();
  });

  it('creates an account with its own workspace, and a login gives a device whose token works', async () => {
    const { email, password, userId, workspaceId } = await signUp(http);
    expect(userId).not.toBe(workspaceId);
    const workspace = await db.pool.query('SELECT owner_id, quota_bytes, cursor FROM rm.workspaces WHERE workspace_id = $1', [workspaceId]);
    expect(workspace.rows).toEqual([{ owner_id: userId, quota_bytes: '5000000', cursor: '1' }]);

    const session = await logIn(http, email, password, 'Ada’s laptop');
    expect(session).toMatchObject({ userId, workspaceId, expiresIn: 900 });
    expect(session.deviceId).toEqual(expect.any(String));
    expect(session.accessToken.split('.')).toHaveLength(3);
    expect(session.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const devices = await http.get('/v1/devices', session.accessToken);
    expect(devices.status).toBe(200);
    expect(devices.body).toEqual({
      devices: [{ deviceId: session.deviceId, name: 'Ada’s laptop', createdAt: expect.any(String), lastSeenAt: expect.any(String), cursor: 0 }],
    });
  });

  it('registers a new device on each login and lists only the caller’s own', async () => {
    const a = await signUp(http);
    const b = await signUp(http);
    const phone = await logIn(http, a.email, a.password, 'phone');
    const laptop = await logIn(http, a.email, a.password, 'laptop');
    await logIn(http, b.email, b.password, 'b’s phone');
    expect(phone.deviceId).not.toBe(laptop.deviceId);
    const listed = await http.get('/v1/devices', phone.accessToken);
    expect((listed.body.devices as Array<{ name: string }>).map((d) => d.name)).toEqual(['phone', 'laptop']);
  });

  it('compares emails without case or surrounding spaces', async () => {
    const email = freshEmail();
    const first = await signUp(http, email);
    for (const again of [email, email.toUpperCase(), `  ${email.replace('user', 'USER')} `]) {
      const res = await http.post('/v1/auth/signup', { email: again, password: 'another password' });
      expect(res.status).toBe(409);
      expect(res.body.error?.code).toBe('email_taken');
    }
    const session = await logIn(http, ` ${email.toUpperCase()}`, first.password);
    expect(session.userId).toBe(first.userId);
    expect((await db.pool.query('SELECT email FROM users WHERE user_id = $1', [first.userId])).rows).toEqual([{ email }]);
  });

  it('gives one account to concurrent signups with one email', async () => {
    const email = freshEmail();
    const answers = await Promise.all([email, email.toUpperCase(), email].map((e) => http.post('/v1/auth/signup', { email: e, password: 'password123' })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409]);
  });

  it.each([
    ['a malformed email', { email: 'not-an-email', password: 'password123' }, 'body.email'],
    ['an email with spaces inside', { email: 'a b@example.com', password: 'password123' }, 'body.email'],
    ['a short password', { email: freshEmail(), password: 'short77' }, 'body.password'],
    ['a password over 1024 bytes', { email: freshEmail(), password: 'é'.repeat(513) }, 'body.password'],
    ['a missing password', { email: freshEmail() }, 'body.password'],
    ['a missing email', { password: 'password123' }, 'body.email'],
    ['a number for a password', { email: freshEmail(), password: 12345678 }, 'body.password'],
    ['an array for a body', [], 'body'],
  ])('refuses a signup with %s, naming the field', async (_, body, field) => {
    const res = await http.post('/v1/auth/signup', body);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_request');
    expect(res.body.error?.details.field).toBe(field);
    expect(res.body.error?.message).toContain(field);
  });

  it('refuses malformed JSON, a missing body and missing login fields', async () => {
    const malformed = await http.post('/v1/auth/signup', '{"email": "a@b.co", "password":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error?.code).toBe('invalid_request');
    const empty = await http.post('/v1/auth/login', undefined);
    expect(empty.status).toBe(400);
    expect(empty.body.error?.code).toBe('invalid_request');
    const noDevice = await http.post('/v1/auth/login', { email: 'a@b.co', password: 'password123' });
    expect(noDevice.status).toBe(400);
    expect(noDevice.body.error?.details.field).toBe('body.deviceName');
    const badRefresh = await http.post('/v1/auth/refresh', { refreshToken: 42 });
    expect(badRefresh.status).toBe(400);
    expect(badRefresh.body.error?.details.field).toBe('body.refreshToken');
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const { email } = await signUp(http);
    const wrongPassword = await http.post('/v1/auth/login', { email, password: 'wrong password', deviceName: 'x' });
    const unknownEmail = await http.post('/v1/auth/login', { email: freshEmail(), password: 'wrong password', deviceName: 'x' });
    const shortPassword = await http.post('/v1/auth/login', { email, password: 'short', deviceName: 'x' });
    for (const res of [wrongPassword, unknownEmail, shortPassword]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual(wrongPassword.body);
    }
    expect(wrongPassword.body.error?.code).toBe('unauthorized');
  });

  it('spends comparable time on an unknown email and a wrong password', async () => {
    const { email } = await signUp(http);
    const time = async (body: unknown) => {
      const start = performance.now();
      await http.post('/v1/auth/login', body);
      return performance.now() - start;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time({ email, password: 'wrong password', deviceName: 'x' }));
      unknown.push(await time({ email: freshEmail(), password: 'wrong password', deviceName: 'x' }));
    }
    // Both pay one scrypt run (tens of ms); without the decoy an unknown email would answer in ~1 ms.
    expect(median(unknown)).toBeGreaterThan(median(known) / 3);
  });

  it('requires a valid bearer token for the device list', async () => {
    for (const token of [undefined, 'garbage', 'a.b.c']) {
      const res = await http.get('/v1/devices', token);
      expect(res.status).toBe(401);
      expect(res.body.error?.code).toBe('unauthorized');
    }
  });

  it('publishes the accounts routes in the OpenAPI document, with their bodies', async () => {
    const doc = await http.get('/docs/json');
    const paths = doc.body.paths as Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required: string[] } }> } }>>;
    expect(paths['/v1/auth/login']?.post?.requestBody?.content['application/json']?.schema.required).toEqual(['email', 'password', 'deviceName']);
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/auth/signup', '/v1/auth/refresh', '/v1/devices', '/v1/devices/{deviceId}']));
  });
});
