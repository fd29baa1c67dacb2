"""
livecall.py -- simulated Vonage calls for the operator's-view tests
(test_stats_page.py, test_metrics.py, test_log_json.py).

run_call() places one call synchronously (connected event, N frames, all
echoes back, a close with a chosen code). PacedCall streams 20 ms frames in
a background thread until stopped, and can pause (socket open, no frames)
so a test can compare numbers that have stopped moving. Every connection
gets a fresh JWT (a token is never reused). Python's websockets library
(Debian python3-websockets 10.x) is the client, not our code.
"""
import asyncio
import json
import socket
import threading
import time

import websockets

from harness import bearer, make_jwt

RATE = 16000
FRAME = 640   # 20 ms at 16 kHz, 16-bit mono


def connected_msg(uuid, frm, to="447700900000", rate=RATE):
    """websocket:connected as Vonage sends it: the NCCO headers at the top level."""
    return json.dumps({"event": "websocket:connected", "content-type": "audio/l16;rate=%d" % rate,
                       "uuid": uuid, "from": frm, "to": to})


def frame(i, size=FRAME):
    return bytes((i * 7 + k) & 0xFF for k in range(size))


async def _connect(srv, path="/socket"):
    return await websockets.connect(srv.ws_base + path, extra_headers=[bearer(srv.secret)],
                                    max_size=None, ping_interval=None, open_timeout=5,
                                    close_timeout=2)


async def _call(srv, uuid, frm, n, close_code, dtmf):
    ws = await _connect(srv)
    await ws.send(connected_msg(uuid, frm))
    for d in dtmf:
        await ws.send(json.dumps({"event": "websocket:dtmf", "digit": d, "duration": 260}))
    for i in range(n):
        await ws.send(frame(i))
        echo = await asyncio.wait_for(ws.recv(), 5)
        if echo != frame(i):
            raise AssertionError("echo %d differs" % i)
    if close_code is not None:
        await ws.close(close_code)
    return ws


def run_call(srv, n, uuid="call-sync", frm="447700900001", close_code=1000, dtmf=()):
    """One call: n frames echoed one by one, then closed with close_code (ours)."""
    asyncio.run(asyncio.wait_for(_call(srv, uuid, frm, n, close_code, dtmf), 30))


async def _oversized(srv, size):
    ws = await _connect(srv)
    await ws.send(connected_msg("call-big", "447700900002"))
    await ws.send(b"\0" * size)
    try:
        await asyncio.wait_for(ws.recv(), 5)
    except websockets.exceptions.ConnectionClosed:
        pass
    await ws.wait_closed()
    return ws.close_code


def oversized_call(srv, size=4000):
    """A frame larger than --slot-bytes: the server closes with 1009. Returns the code seen."""
    return asyncio.run(asyncio.wait_for(_oversized(srv, size), 20))


def vanishing_call(srv):
    """Complete a real handshake, then drop the TCP connection without a close frame."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    req = ("GET /socket HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
           % (srv.port, make_jwt(srv.secret)))
    s.sendall(req.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    s.close()
    if not head.startswith(b"HTTP/1.1 101"):
        raise AssertionError("handshake not accepted: %r" % head[:100])


class PacedCall(threading.Thread):
    """A call streaming one frame every 20 ms until stop(); pause() holds the frames."""

    def __init__(self, srv, uuid, frm, dtmf_at=None):
        super().__init__(daemon=True)
        self.srv, self.uuid, self.frm = srv, uuid, frm
        self.dtmf_at = dict(dtmf_at or {})
        self.sent = self.received = 0
        self.error = None
        self.ready = threading.Event()
        self._paused = threading.Event()
        self._stop = threading.Event()

    def pause(self):
        self._paused.set()

    def resume(self):
        self._paused.clear()

    def stop(self, timeout=10):
        self._stop.set()
        self.join(timeout)
        if self.error:
            raise self.error

    def wait_settled(self, timeout=10):
        """After pause(): wait until the server has every frame sent and the
        client every frame the server echoed, and the two add up: echoed +
        dropped (the ring drops the oldest when the client lags) == received."""
        from harness import stats
        deadline = time.monotonic() + timeout
        while True:
            rows = [c for c in stats(self.srv)["connections"] if c["uuid"] == self.uuid]
            c = rows[0] if rows else None
            if (c and c["packets_received"] == self.sent and c["packets_sent"] == self.received and
                    c["packets_sent"] + c["frames_dropped"] == c["packets_received"]):
                return c
            if time.monotonic() > deadline:
                raise AssertionError("not settled: client sent %d, got back %d; server: %s"
                                     % (self.sent, self.received, c))
            time.sleep(0.05)

    def run(self):
        try:
            asyncio.run(self._main())
        except Exception as e:   # reported by stop()
            self.error = e
            self.ready.set()

    async def _main(self):
        ws = await _connect(self.srv)
        await ws.send(connected_msg(self.uuid, self.frm))
        self.ready.set()

        async def reader():
            async for msg in ws:
                if isinstance(msg, bytes):
                    self.received += 1

        rd = asyncio.ensure_future(reader())
        t = time.monotonic()
        i = 0
        while not self._stop.is_set():
            if not self._paused.is_set():
                if i in self.dtmf_at:
                    await ws.send(json.dumps({"event": "websocket:dtmf", "digit": self.dtmf_at[i],
                                              "duration": 260}))
                await ws.send(frame(i))
                self.sent += 1
                i += 1
            t += 0.02
            await asyncio.sleep(max(0, t - time.monotonic()))
        await ws.close(1000)
        await asyncio.wait_for(rd, 5)
