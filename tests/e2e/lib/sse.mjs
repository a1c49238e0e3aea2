// Server-Sent Events client: SSEClient (stream parser) and connectSSE.

import http from 'node:http';
import https from 'node:https';
import { MessageStream } from './stream.mjs';

/**
 * A Server-Sent Events client on node's http, parsing the stream itself.
 * Each dispatched event becomes an entry of .messages shaped like Client's
 * ({ raw: Buffer of the data, json, text, isBinary: false, at }) plus
 * { id (the id field of THIS event, undefined when it had none), event, lines }.
 * .comments counts comment lines (": ping"). next()/ofType()/describe()/close()
 * behave as on Client.
 */
export class SSEClient extends MessageStream {
  constructor(url) {
    super(url); // closeCode becomes 'end' / 'error' when the stream ends
    this.comments = 0;
    this.status = null;
    this.headers = null;
    this.rawText = '';
    this._buf = '';
    this._ev = null;
  }

  _feed(text) {
    this.rawText += text;
    this._buf += text;
    // Walk the buffer with an index and cut it once per chunk: a chunk can
    // hold hundreds of events (the server sends what is due in one write),
    // and re-slicing the rest after every line would be quadratic.
    const eol = /\r\n|\n|\r/g;
    let pos = 0;
    for (;;) {
      eol.lastIndex = pos;
      const m = eol.exec(this._buf);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (m[0] === '\r' && m.index === this._buf.length - 1) break;
      const line = this._buf.slice(pos, m.index);
      pos = m.index + m[0].length;
      this._line(line);
    }
    this._buf = this._buf.slice(pos);
  }

  _line(line) {
    if (line === '') {
      const ev = this._ev;
      this._ev = null;
      if (!ev || ev.data === undefined) return; // nothing to dispatch (spec: empty data buffer)
      const text = ev.data;
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      this.messages.push({
        raw: Buffer.from(text, 'utf8'), json, text, isBinary: false, at: Date.now(),
        id: ev.id, event: ev.event, lines: ev.lines,
      });
      this._poke();
      return;
    }
    if (line.startsWith(':')) { this.comments++; return; }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (!this._ev) this._ev = { lines: [] };
    const ev = this._ev;
    ev.lines.push(line);
    if (field === 'data') ev.data = ev.data === undefined ? value : `${ev.data}\n${value}`;
    else if (field === 'id') ev.id = value;
    else if (field === 'event') ev.event = value;
    // retry and unknown fields: ignored
  }

  _end(how) {
    if (this.closeCode === null) this.closeCode = how;
    this._resolveClosed({ code: this.closeCode });
    this._poke();
  }

  _endedText() {
    return `stream ended (${this.closeCode})`;
  }

  describe(max = 8) {
    const tail = this.rawText.length > 2000 ? `…${this.rawText.slice(-2000)}` : this.rawText;
    return `HTTP ${this.status}, ${this.messages.length} event(s), ${this.comments} comment line(s); stream: ${JSON.stringify(tail)}`
      + (this.closeCode !== null ? `; ended (${this.closeCode})` : '');
  }

  close() {
    if (this._req) { try { this._req.destroy(); } catch { /* ignore */ } }
  }
}

/**
 * GET an event stream (e.g. '/events?topics=world'), with extra request
 * headers (e.g. { 'Last-Event-ID': seq }); over TLS when ca (the PEM that
 * signed the server's certificate) is given. Resolves with an SSEClient once
 * the response headers arrived (whatever the status: check .status and
 * .headers).
 */
export function connectSSE(port, urlPath, { headers = {}, timeoutMs = 5000, host = '127.0.0.1', ca } = {}) {
  const c = new SSEClient(`${ca ? 'https' : 'http'}://${host}:${port}${urlPath}`);
  return new Promise((resolve, reject) => {
    const req = (ca ? https : http).request(
      { host, port, path: urlPath, method: 'GET', agent: false, ca, headers: { Accept: 'text/event-stream', ...headers } },
      (res) => {
        clearTimeout(timer);
        c.status = res.statusCode;
        c.headers = res.headers;
        res.setEncoding('utf8'); // StringDecoder: multi-byte characters split across chunks stay whole
        res.on('data', (d) => c._feed(d));
        res.on('end', () => c._end('end'));
        res.on('error', () => c._end('error'));
        res.on('close', () => c._end('closed'));
        resolve(c);
      },
    );
    c._req = req;
    const timer = setTimeout(() => {
      req.destroy(new Error(`GET ${urlPath}: no response headers within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); c._end('error'); reject(new Error(`connect ${c.url}: ${e.message}`)); });
    req.end();
  });
}
