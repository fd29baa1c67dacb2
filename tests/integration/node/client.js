#!/usr/bin/env node
// client.js -- one WebSocket call against caller-echo with an npm client
// library we did not write, for tests/integration (nodeclient.py runs it).
//
//   node client.js --lib ws|websocket --url ws://127.0.0.1:PORT/socket
//                  [--token JWT] [--protocol NAME]... [--frames N] [--size BYTES]
//                  [--close CODE] [--timeout MS] [--insecure] [--burst --linger MS]
//
// Sends N distinct binary frames, one at a time, each after the previous
// echo came back (so the count of echoes is exact), then closes with CODE
// (default 1000) and waits for the end. With --burst: sends a
// websocket:connected event, then all N frames at once (as Vonage does
// after a network stall), waits --linger ms for whatever comes back, and
// lists in "got" which frames did, in arrival order. Prints one JSON line:
//   {"lib","opened","status","protocol","sent","echoed","mismatched",
//    "server_close": code from the server's close frame or null,
//    "close_event": what the library reported, "error"}
// "server_close" is read off the raw TCP bytes (the last frame with opcode
// 0x8), not from the library, so a library that reports its own code for
// a close the server never answered cannot hide that.
'use strict';

const crypto = require('crypto');

function parseArgs(argv) {
  const o = { lib: 'ws', protocols: [], frames: 10, size: 640, close: 1000, timeout: 5000, burst: false,
              linger: 1000 };
  for (let i = 2; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    switch (k) {
      case '--lib': o.lib = v; i++; break;
      case '--url': o.url = v; i++; break;
      case '--token': o.token = v; i++; break;
      case '--protocol': o.protocols.push(v); i++; break;
      case '--frames': o.frames = +v; i++; break;
      case '--size': o.size = +v; i++; break;
      case '--close': o.close = +v; i++; break;
      case '--timeout': o.timeout = +v; i++; break;
      case '--insecure': o.insecure = true; break;
      case '--burst': o.burst = true; break;
      case '--linger': o.linger = +v; i++; break;
      default: throw new Error('unknown argument ' + k);
    }
  }
  if (!o.url) throw new Error('--url is required');
  return o;
}

// Watch the raw bytes from the server for close frames (server frames are
// never masked; a close frame fits the first chunk it starts in, in practice).
function closeSniffer(socket, out) {
  let buf = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      if (buf.length < off + len) return;
      if ((buf[0] & 0x0f) === 0x8)
        out.server_close = len >= 2 ? buf.readUInt16BE(off) : 1005;
      buf = buf.subarray(off + len);
    }
  });
}

function frame(i, size) {
  return crypto.createHash('sha256').update('frame-' + i).digest().subarray(0, 32).toString('hex')
    .repeat(Math.ceil(size / 64)).slice(0, size);
}

function run(o) {
  const out = { lib: o.lib, opened: false, status: null, protocol: null, sent: 0, echoed: 0, mismatched: 0,
                server_close: null, close_event: null, error: null };
  const headers = o.token ? { Authorization: 'Bearer ' + o.token } : {};
  let done;
  const finished = new Promise((resolve) => { done = resolve; });
  const timer = setTimeout(() => { out.error = out.error || 'timeout'; done(); }, o.timeout);
  const payload = (i) => Buffer.from(frame(i, o.size), 'latin1');
  // --burst: which frame each echo is, by its bytes
  const index = new Map();
  if (o.burst) {
    out.got = [];
    out.texts = 0;
    for (let i = 0; i < o.frames; i++) index.set(payload(i).toString('latin1'), i);
  }
  const connected = JSON.stringify({ event: 'websocket:connected',
    'content-type': 'audio/l16;rate=' + (o.size / 2 * 50) });
  const burstRx = (data, isText, close) => {
    if (isText) { out.texts++; return; }
    const i = index.get(Buffer.from(data).toString('latin1'));
    if (i === undefined) out.mismatched++;
    else { out.got.push(i); out.echoed++; }
  };

  if (o.lib === 'ws') {
    const WebSocket = require('ws');
    const ws = new WebSocket(o.url, o.protocols, { headers, rejectUnauthorized: !o.insecure });
    ws.on('upgrade', (res) => { out.status = res.statusCode; closeSniffer(res.socket, out); });
    ws.on('unexpected-response', (req, res) => { out.status = res.statusCode; res.resume(); done(); });
    ws.on('open', () => {
      out.opened = true;
      out.protocol = ws.protocol || null;
      if (o.burst) {
        ws.send(connected);
        for (let i = 0; i < o.frames; i++) ws.send(payload(i));
        out.sent = o.frames;
        setTimeout(() => ws.close(o.close), o.linger);
        return;
      }
      if (!o.frames) return ws.close(o.close);
      ws.send(payload(0));
      out.sent = 1;
    });
    ws.on('message', (data, isBinary) => {
      if (o.burst) return burstRx(data, !isBinary);
      if (Buffer.compare(Buffer.from(data), payload(out.echoed + out.mismatched)) === 0) out.echoed++;
      else out.mismatched++;
      if (out.sent < o.frames) { ws.send(payload(out.sent)); out.sent++; }
      else ws.close(o.close);
    });
    ws.on('close', (code) => { out.close_event = code; done(); });
    ws.on('error', (e) => { out.error = String(e.message || e); });
  } else {
    const WebSocketClient = require('websocket').client;
    const client = new WebSocketClient({ tlsOptions: { rejectUnauthorized: !o.insecure } });
    client.on('httpResponse', (res) => { out.status = res.statusCode; done(); });
    client.on('connectFailed', (e) => { out.error = String(e.message || e); done(); });
    client.on('connect', (conn) => {
      out.opened = true;
      out.status = 101;
      out.protocol = conn.protocol || null;
      closeSniffer(conn.socket, out);
      conn.on('message', (m) => {
        const data = m.type === 'binary' ? m.binaryData : Buffer.from(m.utf8Data);
        if (o.burst) return burstRx(data, m.type !== 'binary');
        if (Buffer.compare(data, payload(out.echoed + out.mismatched)) === 0) out.echoed++;
        else out.mismatched++;
        if (out.sent < o.frames) { conn.sendBytes(payload(out.sent)); out.sent++; }
        else conn.close(o.close);   // sends the close frame, then half-closes TCP (socket.end)
      });
      conn.on('close', (code) => { out.close_event = code; done(); });
      conn.on('error', (e) => { out.error = String(e.message || e); });
      if (o.burst) {
        conn.sendUTF(connected);
        for (let i = 0; i < o.frames; i++) conn.sendBytes(payload(i));
        out.sent = o.frames;
        setTimeout(() => conn.close(o.close), o.linger);
      } else if (!o.frames) conn.close(o.close);
      else { conn.sendBytes(payload(0)); out.sent = 1; }
    });
    client.connect(o.url, o.protocols.length ? o.protocols : null, null, headers);
  }
  return finished.then(() => {
    clearTimeout(timer);
    // let a close frame that is still on its way arrive
    return new Promise((r) => setTimeout(r, 200));
  }).then(() => out);
}

try {
  run(parseArgs(process.argv)).then((out) => {
    process.stdout.write(JSON.stringify(out) + '\n');
    process.exit(0);
  });
} catch (e) {
  process.stderr.write('client.js: ' + e.message + '\n');
  process.exit(2);
}
