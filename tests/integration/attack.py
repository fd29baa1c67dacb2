"""
attack.py -- raw-socket tools for the attack tests (test_attack_*.py).

An attacker does not use a polite client library, so these speak HTTP/1.1
and RFC 6455 framing by hand over plain sockets: upgrade requests with any
headers (or garbage), frames with any opcode, mask, length or truncation,
and many clients at once from distinct loopback source addresses (Linux
routes all of 127.0.0.0/8 to lo, so 127.0.0.2, 127.0.0.3, ... are distinct
client addresses for the server's per-address limits without leaving the
host). Only the standard library.
"""
import base64
import os
import selectors
import socket
import struct
import time

from harness import _parse_header_block, make_jwt

# close codes (RFC 6455 7.4.1)
GOING_AWAY, PROTOCOL_ERROR, INVALID_DATA, POLICY, TOO_BIG = 1001, 1002, 1007, 1008, 1009
OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def loopback(i):
    """The i-th attacker address (i >= 0): 127.0.0.2 .. 127.0.0.254, then
    127.0.1.2 ...; last byte 2..254, so never 127.0.0.1 (the honest call's)."""
    rest, last = divmod(i, 253)
    return "127.%d.%d.%d" % (rest // 256, rest % 256, last + 2)


def connect_from(srv, src, timeout=5.0):
    """A TCP connection to the server whose source address is src."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", srv.port))
    return s


def upgrade_request(path="/socket", token=None, headers=(), host="127.0.0.1", key=None):
    """An RFC 6455 upgrade request; token None = no Authorization header."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: %s" % host, "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key, "Sec-WebSocket-Version: 13"]
    if token is not None:
        lines.append("Authorization: Bearer %s" % token)
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(s, timeout=5.0):
    """Read an HTTP response head. Returns (status, Headers, bytes after the
    head); status 0 = the server closed (or reset) without a response,
    None = nothing within timeout."""
    s.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, None, data
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            return None, None, data
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            break
        data += chunk
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/"):
        return 0, None, data
    return int(head.split(b" ", 2)[1]), _parse_header_block(head.decode("latin-1")), rest


def upgrade(srv, src="127.0.0.2", token="fresh", headers=(), timeout=5.0):
    """Open a WebSocket by hand from src. token "fresh" = a new valid JWT,
    None = no Authorization. Returns (status, Headers, RawWs or None); on
    anything but 101 the socket is closed."""
    if token == "fresh":
        token = make_jwt(srv.secret)
    s = connect_from(srv, src, timeout)
    s.sendall(upgrade_request(token=token, headers=headers))
    status, h, rest = read_head(s, timeout)
    if status != 101:
        s.close()
        return status, h, None
    return status, h, RawWs(s, rest)


def encode_frame(opcode, payload=b"", fin=True, mask=True, rsv=0, length=None):
    """One client frame. length overrides the declared payload length (lies)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if not mask:
        return hdr + payload
    key = os.urandom(4)
    return hdr + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


class RawWs:
    """A hand-driven client WebSocket: send any frame, read server frames."""

    def __init__(self, sock, pending=b""):
        self.s = sock
        self.buf = pending

    def send(self, opcode, payload=b"", **kw):
        self.s.sendall(encode_frame(opcode, payload, **kw))

    def send_raw(self, data):
        self.s.sendall(data)

    def _fill(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("frame read timed out")
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise EOFError("connection closed by the server")
            self.buf += chunk

    def recv_frame(self, timeout=5.0):
        """(fin, opcode, payload) of the next server frame (never masked).
        Raises EOFError when the TCP connection ends, socket.timeout."""
        deadline = time.monotonic() + timeout
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        if b1 & 0x80:
            raise AssertionError("server frame is masked")
        self._fill(off + n, deadline)
        payload = self.buf[off:off + n]
        self.buf = self.buf[off + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload

    def wait_close(self, timeout=5.0, answer_pings=True):
        """Read until a close frame or EOF. Returns the close code (1005 for
        an empty close frame) or None if the TCP connection ended without a
        close frame. Data frames on the way are discarded."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                fin, op, p = self.recv_frame(max(0.0, deadline - time.monotonic()))
            except EOFError:
                return None
            if op == OP_CLOSE:
                return struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
            if op == OP_PING and answer_pings:
                self.send(OP_PONG, p)

    def close(self, code=1000):
        try:
            self.send(OP_CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self.s.close()


def raise_fd_limit(n):
    """Let this process hold n more sockets (soft RLIMIT_NOFILE up to the hard one)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def blast_upgrades(srv, sources, token_for=None, headers=(), timeout=20.0, window=200, keep=False):
    """One upgrade attempt from each address in sources, up to window of them
    in flight at once (non-blocking sockets, one selector; the window keeps
    the listen backlog from overflowing, which would only add SYN retries).
    token_for(i) gives the token of attempt i (None = no Authorization).
    Returns (statuses in the order of sources -- 0 = closed without a
    response, None = no answer in time -- and the list of upgraded sockets
    when keep, else they are closed at once)."""
    raise_fd_limit(len(sources) if keep else window)
    sel = selectors.DefaultSelector()
    state = {}
    results = [None] * len(sources)
    held = []
    nxt = 0
    deadline = time.monotonic() + timeout

    def launch(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((sources[i], 0))
        s.connect_ex(("127.0.0.1", srv.port))
        req = upgrade_request(token=token_for(i) if token_for else None, headers=headers)
        state[s] = [i, req, b""]
        sel.register(s, selectors.EVENT_WRITE)

    try:
        while (state or nxt < len(sources)) and time.monotonic() < deadline:
            while nxt < len(sources) and len(state) < window:
                launch(nxt)
                nxt += 1
            for key, ev in sel.select(0.2):
                s = key.fileobj
                st = state[s]
                try:
                    if ev & selectors.EVENT_WRITE:
                        n = s.send(st[1])
                        st[1] = st[1][n:]
                        if not st[1]:
                            sel.modify(s, selectors.EVENT_READ)
                        continue
                    chunk = s.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    chunk = b""
                st[2] += chunk
                if chunk and b"\r\n\r\n" not in st[2]:
                    continue
                line = st[2].split(b"\r\n", 1)[0]
                results[st[0]] = int(line.split(b" ")[1]) if line.startswith(b"HTTP/") else 0
                sel.unregister(s)
                del state[s]
                if keep and results[st[0]] == 101:
                    s.setblocking(True)
                    held.append(RawWs(s, st[2].partition(b"\r\n\r\n")[2]))
                else:
                    s.close()
    finally:
        for s in state:
            sel.unregister(s)
            s.close()
        sel.close()
    return results, held


def rejected(srv):
    """/stats.json "rejected" (reason -> count)."""
    from harness import stats
    return stats(srv)["rejected"]


def delta(before, after):
    """Reasons whose count changed, with the change: {reason: +n}."""
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)
            if after.get(k, 0) != before.get(k, 0)}


def healthy(srv, src=None):
    """The server process runs and answers GET /healthz with 200 ok (asked
    from source address src, default 127.0.0.1)."""
    from harness import curl
    if not srv.running():
        return False
    status, _, body = curl((["--interface", src] if src else []) + [srv.base + "/healthz"], timeout=5)
    return status == 200 and body == b"ok\n"


def audio_frame(i, seed=0, size=960):
    """Distinct, deterministic 20 ms frame number i."""
    import random
    return random.Random("%s:%d" % (seed, i)).randbytes(size)


def stream_raw(ws, seconds, seed=0, pace=0.020, size=960):
    """Stream paced binary frames over a RawWs for `seconds`, reading what
    comes back in between: every echo is compared with what was sent,
    pings are answered with a pong carrying the same payload. Returns a
    dict: sent, echoed, mismatched, pings (seconds since start of each),
    close (close code received, None if none), eof (TCP ended)."""
    import select
    out = {"sent": 0, "echoed": 0, "mismatched": 0, "pings": [], "close": None, "eof": False}
    n = int(round(seconds / pace))
    t0 = time.monotonic()
    i = 0
    while True:
        now = time.monotonic()
        if i < n and now >= t0 + i * pace:
            try:
                ws.send(OP_BIN, audio_frame(i, seed, size))
            except OSError:
                out["eof"] = True
                break
            i += 1
            out["sent"] = i
            continue
        if i >= n and out["echoed"] + out["mismatched"] >= n:
            break
        end = t0 + i * pace if i < n else t0 + n * pace + 2.0
        if i >= n and now > end:
            break
        if not ws.buf:
            r, _, _ = select.select([ws.s], [], [], max(0.0, min(end - now, 0.05)))
            if not r:
                continue
        try:
            fin, op, p = ws.recv_frame(timeout=1.0)
        except EOFError:
            out["eof"] = True
            break
        except socket.timeout:
            continue
        if op == OP_BIN:
            if p == audio_frame(out["echoed"] + out["mismatched"], seed, size):
                out["echoed"] += 1
            else:
                out["mismatched"] += 1
        elif op == OP_PING:
            out["pings"].append(time.monotonic() - t0)
            ws.send(OP_PONG, p)
        elif op == OP_CLOSE:
            out["close"] = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
            break
    return out
