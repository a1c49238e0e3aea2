// HTTP probes of a running tickerd: httpGet, /healthz, strict /metrics parsing, /proc memory.

import fs from 'node:fs';
import http from 'node:http';

// ---------------------------------------------------------------------------
// HTTP helpers

/** GET a path; resolves {status, headers, body: Buffer, text}. No keep-alive. */
export function httpGet(port, urlPath, { timeoutMs = 3000, host = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host, port, path: urlPath, method: 'GET', agent: false, headers: { Connection: 'close' } },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${urlPath}: timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET /healthz; resolves {status, json, text}. json is undefined if not parseable. */
export async function getHealth(port) {
  const r = await httpGet(port, '/healthz');
  let json;
  try { json = JSON.parse(r.text); } catch { /* leave undefined */ }
  return { status: r.status, json, text: r.text, headers: r.headers };
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseMetricValue(s, line) {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`/metrics: bad sample value ${JSON.stringify(s)} in line ${JSON.stringify(line)}`);
  return Number(s);
}

/** Canonical key of a sample: name{a="x",b="y"} with labels sorted ('name' alone without labels). */
export function metricKey(name, labels = {}) {
  const ks = Object.keys(labels).sort();
  return ks.length ? `${name}{${ks.map((k) => `${k}=${JSON.stringify(String(labels[k]))}`).join(',')}}` : name;
}

/**
 * Parse the Prometheus text exposition format (0.0.4) strictly: every line
 * must be `# HELP name text`, `# TYPE name type`, another `#` comment, or a
 * sample `name{label="value",...} value [timestamp]`; anything else throws.
 * Returns { families: Map(name -> { help, type }), samples: [{ name, labels, value, line }],
 * value(name, labels) (undefined when absent), byName(name) }.
 */
export function parsePrometheus(text) {
  const families = new Map();
  const samples = [];
  const seen = new Set();
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else throw new Error('/metrics: the text does not end with a newline');
  for (const line of lines) {
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME_RE.test(name)) throw new Error(`/metrics: bad metric name in ${JSON.stringify(line)}`);
      const fam = families.get(name) || {};
      if (kind === 'HELP') {
        if (fam.help !== undefined) throw new Error(`/metrics: second HELP for ${name}`);
        fam.help = rest;
      } else {
        if (fam.type !== undefined) throw new Error(`/metrics: second TYPE for ${name}`);
        if (!METRIC_TYPES.has(rest.trim())) throw new Error(`/metrics: bad TYPE in ${JSON.stringify(line)}`);
        if (samples.some((s) => s.name === name)) throw new Error(`/metrics: TYPE for ${name} after its samples`);
        fam.type = rest.trim();
      }
      families.set(name, fam);
      continue;
    }
    if (line.trim() === '') throw new Error('/metrics: blank line');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?$/.exec(line);
    if (!m) throw new Error(`/metrics: not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText = '', valueText] = m;
    const labels = {};
    let rest = labelText;
    while (rest.length) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      if (!lm) throw new Error(`/metrics: bad labels ${JSON.stringify(labelText)} in ${JSON.stringify(line)}`);
      if (lm[1] in labels) throw new Error(`/metrics: label ${lm[1]} twice in ${JSON.stringify(line)}`);
      labels[lm[1]] = lm[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      rest = rest.slice(lm[0].length);
      if (rest.length && !lm[3]) throw new Error(`/metrics: labels not comma-separated in ${JSON.stringify(line)}`);
    }
    const key = metricKey(name, labels);
    if (seen.has(key)) throw new Error(`/metrics: sample ${key} twice`);
    seen.add(key);
    samples.push({ name, labels, value: parseMetricValue(valueText, line), line });
  }
  const byKey = new Map(samples.map((s) => [metricKey(s.name, s.labels), s.value]));
  return {
    families,
    samples,
    value: (name, labels = {}) => byKey.get(metricKey(name, labels)),
    byName: (name) => samples.filter((s) => s.name === name),
  };
}

/** GET /metrics and parse it; resolves { status, headers, text, families, samples, value(), byName() }. */
export async function getMetrics(port, { timeoutMs = 3000 } = {}) {
  const r = await httpGet(port, '/metrics', { timeoutMs });
  if (r.status !== 200) throw new Error(`GET /metrics: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  return { status: r.status, headers: r.headers, text: r.text, ...parsePrometheus(r.text) };
}

/** A field of /proc/<pid>/status in kB (e.g. 'VmRSS', 'VmHWM'); Linux only. */
export function procStatusKb(pid, field = 'VmRSS') {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(text);
  if (!m) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(m[1]);
}
