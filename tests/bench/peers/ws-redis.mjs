// ws-redis.mjs: the hand-rolled ticker a site would write, for the benchmark
// (tests/bench/run.sh, target "ws"): one Node process, a `ws` WebSocketServer,
// and an `ioredis` subscriber whose every message goes to every open client,
// as the two packages' READMEs show it ("Server broadcast", "Pub/Sub").
//
//   node ws-redis.mjs PORT REDIS_PORT [PATTERN]
import { WebSocketServer, WebSocket } from 'ws';
import Redis from 'ioredis';

const [port, redisPort, pattern = 'ticker:*'] = process.argv.slice(2);
if (!port || !redisPort) {
  console.error('usage: node ws-redis.mjs PORT REDIS_PORT [PATTERN]');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(port) });
wss.on('connection', (ws) => {
  ws.on('error', console.error);
});
wss.on('listening', () => console.error(`ws peer: listening on 127.0.0.1:${port}`));

const sub = new Redis({ host: '127.0.0.1', port: Number(redisPort) });
sub.psubscribe(pattern, (err) => {
  if (err) {
    console.error(`ws peer: PSUBSCRIBE ${pattern}: ${err.message}`);
    process.exit(1);
  }
  console.error(`ws peer: subscribed to ${pattern}`);
});
sub.on('pmessage', (_pattern, _channel, message) => {
  wss.clients.forEach((client) => {
    if (client.readyState === WebSocket.OPEN) {
      client.send(message);
    }
  });
});

process.on('SIGTERM', () => process.exit(0));
