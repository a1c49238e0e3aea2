// End-to-end test harness for tickerd.
//
// Spawns the real `redis-server` and the real tickerd binary on spare
// 127.0.0.1 ports, speaks RESP directly to Redis (so arbitrary bytes can be
// published exactly) and wraps WebSocket clients (npm `ws`) so tests can
// await messages and compare raw frame bytes.
//
// Every process and temporary folder created here is registered in a global
// registry and torn down by the test's `t.after` hooks and, as a last
// resort, on process 'exit' / SIGINT / SIGTERM.
//
// The code lives in lib/, split by concern; this file re-exports all of it.

export * from './lib/config.mjs';
export * from './lib/processes.mjs';
export * from './lib/redis.mjs';
export * from './lib/metrics.mjs';
export * from './lib/ws.mjs';
export * from './lib/sse.mjs';
export * from './lib/scenario.mjs';
export * from './lib/asserts.mjs';
export * from './lib/rawhttp.mjs';
export * from './lib/refusals.mjs';
export * from './lib/tickerctl.mjs';
export * from './lib/api.mjs';
