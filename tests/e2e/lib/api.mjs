// The HTTP publish API from a client's side: publisher keys and their
// --publisher-key settings, requests to /api/items over node's http (with
// keep-alive agents when a test wants one connection per publisher), and the
// log entries' `by` field.

import http from 'node:http';
import crypto from 'node:crypto';
import { redisCall } from './redis.mjs';

/** The --publisher-key value for key `key` named `name`, limited to `topics` (optional). */
export function keySetting(name, key, topics = []) {
  const hex = crypto.createHash('sha256').update(key).digest('hex');
  return `${name}=sha256:${hex}${topics.length ? `:${topics.join(',')}` : ''}`;
}

/**
 * One request to tickerd's API: resolves { status, headers, text, json }.
 * opts: { key (Bearer), body (string/Buffer), headers, agent, timeoutMs }.
 */
export function apiRequest(port, method, target, { key, body, headers = {}, agent, timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (key !== undefined) h.Authorization = `Bearer ${key}`;
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (data) h['Content-Length'] = String(data.length);
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: h, agent: agent ?? false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** POST a payload to /api/items/<topic> with key; resolves as apiRequest. */
export function apiPublish(port, key, topic, payload, opts = {}) {
  return apiRequest(port, 'POST', `/api/items/${topic}`, { key, body: typeof payload === 'string' ? payload : JSON.stringify(payload), ...opts });
}

/** The log's entries as { id, fields: {topic, payload, by, ...} }, oldest first. */
export async function logEntries(redisPort, prefix = 'ticker') {
  const raw = await redisCall(redisPort, ['XRANGE', `${prefix}:log`, '-', '+']);
  return raw.map(([id, kv]) => {
    const fields = {};
    for (let i = 0; i + 1 < kv.length; i += 2) fields[String(kv[i])] = String(kv[i + 1]);
    return { id: String(id), fields };
  });
}
