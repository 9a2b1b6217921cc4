import { describe, expect, it } from 'vitest';
import { loginDevice, newEmail } from '../../support/devices.js';
import { useGateway, type TestGateway } from '../../support/gateway.js';
import { chunksOf, randomBytes, refsOf } from './harness.js';

/** The other transfer tests inject fixed tokens; this one goes through signup and login as a device would. */
describe('a device signed in through the accounts API', () => {
  let gw: TestGateway;
  useGateway((_db, g) => (gw = g));

  it('uploads a file and reads it back, and another account cannot see it', async () => {
    const device = await loginDevice(gw.url, newEmail());
    const stranger = await loginDevice(gw.url, newEmail());
    const json = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const bytes = randomBytes(50_000);
    const chunks = chunksOf(bytes, 20_000);
    const request = await fetch(`${gw.url}/v1/files/upload_request`, {
      method: 'POST',
      headers: json(device.accessToken),
      body: JSON.stringify({ workspaceId: device.workspaceId, parentId: device.rootId, fileName: 'hello.bin', fileSize: bytes.length, chunks: refsOf(chunks) }),
    });
    expect(request.status).toBe(200);
    const { uploadUrls } = (await request.json()) as { uploadUrls: Record<string, string> };
    for (const c of chunks) expect((await fetch(uploadUrls[c.hash] as string, { method: 'PUT', body: c.bytes })).status).toBe(201);
    const commit = await fetch(`${gw.url}/v1/files/commit`, {
      method: 'POST',
      headers: json(device.accessToken),
      body: JSON.stringify({ workspaceId: device.workspaceId, parentId: device.rootId, name: 'hello.bin', chunks: refsOf(chunks), size: bytes.length, idempotencyKey: 'k1' }),
    });
    expect(commit.status).toBe(201);
    const { fileId } = (await commit.json()) as { fileId: string };
    const content = await fetch(`${gw.url}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${device.accessToken}` } });
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await fetch(`${gw.url}/v1/files/${fileId}/content`, { headers: { authorization: `Bearer ${stranger.accessToken}` } })).status).toBe(404);
    expect((await fetch(`${gw.url}/v1/files/${fileId}/content`)).status).toBe(401);
  });
});
