// socketio-redis.mjs: Socket.IO as a site would run it, for the benchmark
// (tests/bench/run.sh, target "sio"): one Node process, the WebSocket transport
// only, @socket.io/redis-adapter so that several such processes could share
// the audience (io.emit() goes through the adapter, as in its README), and an
// `ioredis` subscriber that emits each published item as an "item" event.
//
//   node socketio-redis.mjs PORT REDIS_PORT [PATTERN]
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

const [port, redisPort, pattern = 'ticker:*'] = process.argv.slice(2);
if (!port || !redisPort) {
  console.error('usage: node socketio-redis.mjs PORT REDIS_PORT [PATTERN]');
  process.exit(2);
}

const redisOptions = { host: '127.0.0.1', port: Number(redisPort) };
const pubClient = new Redis(redisOptions);
const subClient = pubClient.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, {
  transports: ['websocket'],
  adapter: createAdapter(pubClient, subClient),
});
io.on('connection', (socket) => {
  socket.on('error', console.error);
});

const feed = new Redis(redisOptions);
feed.psubscribe(pattern, (err) => {
  if (err) {
    console.error(`sio peer: PSUBSCRIBE ${pattern}: ${err.message}`);
    process.exit(1);
  }
  console.error(`sio peer: subscribed to ${pattern}`);
});
feed.on('pmessage', (_pattern, _channel, message) => {
  io.emit('item', message);
});

httpServer.listen(Number(port), '127.0.0.1', () =>
  console.error(`sio peer: listening on 127.0.0.1:${port}`));
process.on('SIGTERM', () => process.exit(0));
