// The ingest benchmark's baseline: a bare node:http server that streams each POST body to a file
// in its data dir and fsyncs it before answering, the least any durable upload must do.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env.STRATA_DATA_DIR ?? '/tmp';
let n = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/readyz') return void res.writeHead(200).end('ok');
  if (req.method !== 'POST') return void res.writeHead(404).end();
  const file = path.join(dir, `upload-${n++}`);
  const out = fs.createWriteStream(file);
  pipeline(req, out)
    .then(async () => {
      const fd = await fs.promises.open(file, 'r');
      await fd.sync();
      await fd.close();
      res.writeHead(201).end();
    })
    .catch(() => res.writeHead(500).end());
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
