import { it } from 'vitest';
import { createTestDatabase } from '../../support/db.js';
import { chunksOf, startTransfersGateway } from './harness.js';

it('repro', async () => {
  const db = await createTestDatabase();
  const t = await startTransfersGateway(db, process.env.NOW ? { now: () => new Date() } : {});
  const me = await t.newAccount();
  const f = await t.upload(me, me.rootId, 'a', chunksOf(Buffer.from('my resume'), 1024));
  const listed = (await t.call('GET', `/v1/files/${f.fileId}/download_request`, me)).body.chunks as Array<{ url: string }>;
  const mode = process.env.MODE;
  if (mode === 'chunk') await t.getBytes(listed[0]?.url as string);
  if (mode === 'content') await t.getBytes(`/v1/files/${f.fileId}/content`, me);
  const server = t.gw.app.server;
  const conns = (server as unknown as { [k: symbol]: unknown });
  console.log(Object.getOwnPropertySymbols(conns).map(String));
  console.time('close');
  await t.gw.close();
  console.timeEnd('close');
  await db.drop();
}, 100_000);
