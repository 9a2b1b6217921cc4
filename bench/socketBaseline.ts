// The propagation benchmark's baseline: a bare socket.io server on plain node:http. POST /emit/<room>
// answers 200, then emits to the room, as Strata answers a commit and emits to the workspace.
import http from 'node:http';
import { Server } from 'socket.io';

const server = http.createServer((req, res) => {
  if (req.url === '/readyz') return void res.writeHead(200).end('ok');
  const room = /^\/emit\/(.+)$/.exec(req.url ?? '')?.[1];
  if (req.method !== 'POST' || room === undefined) return void res.writeHead(404).end();
  const cursor = Number(req.headers['x-cursor']);
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cursor }));
  io.of('/v1/sync').to(room).emit('changes', { workspaceId: room, cursor });
});
const io = new Server(server, { serveClient: false });
io.of('/v1/sync').on('connection', (socket) => {
  const room = (socket.handshake.auth as { token?: string }).token ?? 'none';
  void socket.join(room);
});
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
