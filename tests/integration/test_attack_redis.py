"""
test_attack_redis.py -- issue 19 finding 5: "the Redis client trusts the
store too much". The replay store (--replay-redis) asks Redis whether a
token is spent, synchronously, inside the handshake: whatever Redis does
decides what every call hears meanwhile and whether a token gets in twice.

FakeStore: a Redis of our own (FakeRedis, threads on loopback) answers
honestly -- SET NX EX, PING, AUTH -- until a test tells it to misbehave:
it trickles a reply a byte at a time (the handshake must be answered 503
within about --replay-redis-timeout, and an honest call running meanwhile
loses nothing), streams a 200 MB bulk reply (the server's VmRSS must stay
flat), answers :1, *0, +QUEUED, $1 1, -ERR, RESP3's _ or two replies at
once (each 503, store unavailable: never an acceptance), or answers a
command late (that answer must not be taken for the next command's).
Counted in /stats.json replay_store.redis_errors and /metrics.

Auth, Tls: Debian's real redis-server with requirepass and an ACL user,
the password from a file (right password: one acceptance across two
servers; wrong: exit 2 at start, 503 at runtime when it changes; a file
others can read or write: exit 2; the password never in a log), and with
TLS (a CA and certificates made here with openssl: verified by name and
by IP address; a certificate for another name or from another CA: exit 2).
OffHost: a Redis not on loopback without TLS and a password: exit 2.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from attack import connect_from, read_head, upgrade_request
from harness import (Server, ServerStartError, curl, free_port, make_jwt, required, stats,
                     tmp_root)
from honest import HonestCall
from test_metrics import parse_metrics
from test_replay import REDIS, RedisServer

TIMEOUT_MS = 150          # --replay-redis-timeout for the fake's server
RETRY_S = 1.05            # after a failure Redis is tried again the next second


def present(srv, token, src="127.0.0.2", timeout=30.0):
    """Upgrade with token from src; (status, seconds the answer took)."""
    s = connect_from(srv, src, timeout)
    try:
        t0 = time.monotonic()
        s.sendall(upgrade_request(token=token))
        status, _, _ = read_head(s, timeout)
        return status, time.monotonic() - t0
    finally:
        s.close()


def wait_open(srv, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        got = stats(srv)["totals"]["connections_open"]
        if got == n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def rss_kib(pid, what="VmRSS"):
    """VmRSS (resident now) or VmHWM (the most ever resident) of pid, KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(what + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s for pid %d" % (what, pid))


def resp(*args):
    """A RESP command (an array of bulk strings)."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


def redis_cmd(port, *cmds):
    """Send RESP commands to a real redis-server on loopback; its raw replies."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(b"".join(resp(*c) for c in cmds))
        data = b""
        deadline = time.monotonic() + 5
        while data.count(b"\r\n") < len(cmds) and time.monotonic() < deadline:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()


class FakeRedis:
    """A Redis on 127.0.0.1 that keeps SET NX EX keys honestly, answers PING
    and AUTH, and misbehaves on SET when told (set_mode):
      ("honest",)                    +OK, or $-1 when the key is there
      ("reply", bytes)               those bytes, whatever the command
      ("trickle", bytes, gap_s)      those bytes one at a time, gap_s apart
      ("big", n)                     $n then n bytes, 1 MiB at a time
      ("late", delay_s)              the honest answer, delay_s late
    """

    def __init__(self):
        self.port = free_port()
        self.keys = {}
        self.mode = ("honest",)
        self.lock = threading.Lock()
        self.connections = 0
        self.sets = 0
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(16)
        self.stopping = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()

    def set_mode(self, *mode):
        with self.lock:
            self.mode = mode

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _parse(buf):
        """One command off buf: (args, rest), or (None, buf) if incomplete."""
        if not buf.startswith(b"*") or b"\r\n" not in buf:
            return None, buf
        head, rest = buf[1:].split(b"\r\n", 1)
        args = []
        for _ in range(int(head)):
            if b"\r\n" not in rest:
                return None, buf
            n, after = rest[1:].split(b"\r\n", 1)
            n = int(n)
            if len(after) < n + 2:
                return None, buf
            args.append(after[:n])
            rest = after[n + 2:]
        return args, rest

    def _serve(self, c):
        buf = b""
        try:
            while True:
                args, buf = self._parse(buf)
                if args is None:
                    chunk = c.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                    continue
                self._answer(c, args)
        except OSError:
            pass
        finally:
            c.close()

    def _honest_set(self, args):
        key, now = args[1], time.monotonic()
        with self.lock:
            self.sets += 1
            if self.keys.get(key, 0) > now:
                return b"$-1\r\n"
            self.keys[key] = now + int(args[args.index(b"EX") + 1])
            return b"+OK\r\n"

    def _answer(self, c, args):
        name = args[0].upper()
        if name == b"PING":
            c.sendall(b"+PONG\r\n")
            return
        if name == b"AUTH":
            c.sendall(b"+OK\r\n")
            return
        with self.lock:
            mode = self.mode
        if name != b"SET" or mode[0] == "reply":
            c.sendall(mode[1] if mode[0] == "reply" else b"-ERR unknown command\r\n")
        elif mode[0] == "honest":
            c.sendall(self._honest_set(args))
        elif mode[0] == "trickle":
            for i in range(len(mode[1])):
                c.sendall(mode[1][i:i + 1])
                time.sleep(mode[2])
        elif mode[0] == "big":
            c.sendall(b"$%d\r\n" % mode[1])
            chunk = b"x" * (1 << 20)
            for _ in range(mode[1] >> 20):
                c.sendall(chunk)
        elif mode[0] == "late":
            answer = self._honest_set(args)
            time.sleep(mode[1])
            c.sendall(answer)


class FakeStore(unittest.TestCase):
    """One caller-echo on one FakeRedis; every test starts with the fake
    honest and the server using it, and ends with an honest call that lost
    nothing."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeRedis().start()
        cls.srv = Server(args=["--replay-redis", "127.0.0.1:%d" % cls.fake.port,
                               "--replay-redis-timeout", str(TIMEOUT_MS)])
        try:
            cls.srv.start()
        except BaseException:
            cls.fake.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()
        cls.fake.stop()

    def setUp(self):
        self.fake.set_mode("honest")
        # after the last test's failures the server waits a second before trying Redis again
        deadline = time.monotonic() + 10
        while present(self.srv, make_jwt(self.srv.secret))[0] != 101:
            self.assertLess(time.monotonic(), deadline, "the server never used the honest fake again")
            time.sleep(0.2)

    def start_honest(self, seconds):
        """An honest call, connected while the fake is honest (its token goes
        through the store too)."""
        call = HonestCall(self.srv, seconds).start()
        self.addCleanup(call.wait)
        self.assertEqual(wait_open(self.srv, 1), 1, "honest call did not connect")
        return call

    def redis_errors(self):
        e = stats(self.srv)["replay_store"].get("redis_errors", {})
        return {k: e.get(k, 0) for k in ("timeout", "oversized", "unexpected", "auth", "tls", "connection",
                                         "backoff")}

    def test_trickled_reply_is_cut_at_the_timeout(self):
        """A reply a byte every 10 ms (10 s in all; each byte well within any
        read timeout) held the loop for seconds: now 503 within ~150 ms."""
        call = self.start_honest(3.5)
        self.fake.set_mode("trickle", b"$1000\r\n" + b"x" * 1000 + b"\r\n", 0.01)
        before = self.redis_errors()
        took = []
        for _ in range(3):
            status, secs = present(self.srv, make_jwt(self.srv.secret))
            self.assertEqual(status, 503)
            took.append(secs)
            time.sleep(RETRY_S)
        # 150 ms and the scheduling of a busy machine; the trickle would be 10 s
        self.assertLess(max(took), 2.0, took)
        after = self.redis_errors()
        self.assertEqual(after["timeout"] - before["timeout"], 3)
        self.fake.set_mode("honest")
        call.assert_clean(self)
        self.assertIn("is not answering (timeout: no reply within the timeout)", self.srv.stderr_text())

    def test_right_answer_too_late_is_not_taken(self):
        """+OK is the answer, but it took 400 ms: the round trip is bounded, not each read."""
        call = self.start_honest(1.5)
        self.fake.set_mode("trickle", b"+OK\r\n", 0.08)
        token = make_jwt(self.srv.secret)
        status, secs = present(self.srv, token)
        self.assertEqual(status, 503)
        self.assertLess(secs, 2.0)
        call.assert_clean(self)

    def test_huge_bulk_reply_leaves_memory_flat(self):
        """A 200 MB bulk reply raised RSS by 200 MB and it stayed: now the
        reply is cut after 4 KiB, 503, and RSS does not grow."""
        call = self.start_honest(4.5)
        pid = self.srv.proc.pid
        self.fake.set_mode("big", 200 << 20)
        before, peak, errs = rss_kib(pid), rss_kib(pid, "VmHWM"), self.redis_errors()
        took = []
        for _ in range(3):
            status, secs = present(self.srv, make_jwt(self.srv.secret))
            took.append(secs)
            self.assertEqual(status, 503)
            time.sleep(RETRY_S)
        grown, peaked = rss_kib(pid) - before, rss_kib(pid, "VmHWM") - peak
        print("\n  after 3 x 200 MB bulk replies: VmRSS %+d KiB, VmHWM %+d KiB, answered in %s s"
              % (grown, peaked, ", ".join("%.3f" % t for t in took)), flush=True)
        self.assertLess(grown, 4096, "RSS grew by %d KiB" % grown)
        self.assertLess(peaked, 4096, "RSS peaked %d KiB higher" % peaked)
        self.assertLess(max(took), 2.0, took)
        self.assertEqual(self.redis_errors()["oversized"] - errs["oversized"], 3)
        self.fake.set_mode("honest")
        call.assert_clean(self)
        self.assertIn("is not answering (oversized: a reply of more than 4096 bytes)", self.srv.stderr_text())

    def test_unexpected_replies_never_accept_a_token(self):
        """Any reply but nil counted as "new": :1, *0, +QUEUED, a bulk string
        let one token in twice. One token meets every wrong answer: 503 each
        time, then an honest store accepts it once."""
        replies = [b":1\r\n", b"*0\r\n", b"+QUEUED\r\n", b"$1\r\n1\r\n", b"-ERR no\r\n", b"_\r\n",
                   b"*-1\r\n", b"+OK\r\n+OK\r\n"]
        call = self.start_honest(len(replies) * RETRY_S + 1.5)
        token = make_jwt(self.srv.secret)
        before, m0 = stats(self.srv), parse_metrics(curl([self.srv.base + "/metrics"])[2].decode())
        for r in replies:
            with self.subTest(reply=r):
                self.fake.set_mode("reply", r)
                self.assertEqual(present(self.srv, token)[0], 503)
            time.sleep(RETRY_S)
        after = stats(self.srv)
        n = len(replies)
        self.assertEqual(after["replay_store"]["redis_errors"]["unexpected"]
                         - before["replay_store"].get("redis_errors", {}).get("unexpected", 0), n)
        self.assertEqual(after["replay_store"]["errors"] - before["replay_store"]["errors"], n)
        self.assertEqual(after["rejected"]["replay_store_down"] - before["rejected"]["replay_store_down"], n)
        m1 = parse_metrics(curl([self.srv.base + "/metrics"])[2].decode())
        key = 'caller_echo_replay_store_redis_errors_total{reason="unexpected"}'
        self.assertEqual(m1[key] - m0[key], n)
        # the honest store: the token is new to it, once
        self.fake.set_mode("honest")
        self.assertEqual(present(self.srv, token)[0], 101)
        self.assertEqual(present(self.srv, token)[0], 401)
        call.assert_clean(self)
        log = self.srv.stderr_text()
        self.assertIn("is not answering (unexpected: an integer reply (1))", log)
        self.assertIn("answers again", log)

    def test_late_reply_is_not_the_next_answer(self):
        """SET A times out; the fake stores A and answers +OK 0.6 s late. The
        next SET A must hear the store's nil (401), not that +OK (101)."""
        call = self.start_honest(3.0)
        token = make_jwt(self.srv.secret)
        self.fake.set_mode("late", 0.6)
        self.assertEqual(present(self.srv, token)[0], 503)
        self.fake.set_mode("honest")
        time.sleep(RETRY_S)   # the late +OK went out meanwhile
        self.assertEqual(present(self.srv, token)[0], 401)
        self.assertEqual(present(self.srv, make_jwt(self.srv.secret))[0], 101)
        call.assert_clean(self)


def make_ca(d, name):
    key, cert = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                    "-keyout", key, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return cert, key


def make_leaf(d, name, ca, san):
    key, csr, cert = (os.path.join(d, name + x) for x in (".key", ".csr", ".pem"))
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % san)
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out", csr],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                    "-days", "2", "-extfile", ext, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
    return cert, key


def secret_file(d, name, text, mode=0o600):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, mode)
    return path


class RedisWith(RedisServer):
    """RedisServer with more arguments, and TLS (then the plain port is off)."""

    def __init__(self, extra=(), tls=None):
        super().__init__()
        self.extra = list(extra)
        self.tls = tls     # (cert, key, ca)

    def start(self):
        argv = [REDIS, "--port", "0" if self.tls else str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]
        if self.tls:
            argv += ["--tls-port", str(self.port), "--tls-cert-file", self.tls[0], "--tls-key-file", self.tls[1],
                     "--tls-ca-cert-file", self.tls[2], "--tls-auth-clients", "no"]
        self.proc = subprocess.Popen(argv + self.extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited: %s" % self.proc.stdout.read().decode()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")


def start_fails(tc, args, secret=None):
    """A server that must refuse to start: (exit status, its stderr)."""
    srv = Server(args=args, secret=secret)
    with tc.assertRaises(ServerStartError):
        srv.start()
    return srv.proc.returncode, srv.stderr_text()


PASSWORD = "correct-horse-" + os.urandom(6).hex()
ALICE_PASSWORD = "alice-" + os.urandom(6).hex()


@required(REDIS, "redis-server missing: scripts/deps.sh test installs it")
class Auth(unittest.TestCase):
    """requirepass and an ACL user on a real redis-server; the password from a file."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="redis-auth-", dir=tmp_root())
        cls.rd = RedisWith(["--requirepass", PASSWORD,
                            "--user", "alice", "on", ">" + ALICE_PASSWORD, "~caller-echo:*", "resetchannels",
                            "-@all", "+set", "+ping"]).start()
        cls.pw = secret_file(cls.dir, "pw", PASSWORD)
        cls.alice = secret_file(cls.dir, "alice", ALICE_PASSWORD)
        cls.args = ["--replay-redis", "127.0.0.1:%d" % cls.rd.port, "--replay-redis-timeout", "2000"]

    @classmethod
    def tearDownClass(cls):
        cls.rd.stop()
        shutil.rmtree(cls.rd.dir, ignore_errors=True)

    def assert_no_password(self, text):
        self.assertNotIn(PASSWORD, text)
        self.assertNotIn(ALICE_PASSWORD, text)

    def one_use_across(self, extra):
        secret = os.urandom(24).hex().encode()
        with Server(secret=secret, args=self.args + extra) as a, Server(secret=secret, args=self.args + extra) as b:
            for x, y in ((a, b), (b, a)):
                token = make_jwt(secret)
                self.assertEqual(present(x, token)[0], 101)
                self.assertEqual(present(y, token)[0], 401, "accepted by another server")
            st = stats(a)["replay_store"]
            self.assertEqual((st["kind"], st["errors"]), ("redis", 0))
            self.assertIn(", AUTH%s answers" % (" as alice" if "alice" in extra else ""), a.stderr_text())
            self.assert_no_password(a.stderr_text() + b.stderr_text())

    def test_right_password_one_use_across_two_servers(self):
        self.one_use_across(["--replay-redis-password-file", self.pw])

    def test_acl_user(self):
        # alice may only SET caller-echo:* and PING: all the store needs
        self.one_use_across(["--replay-redis-user", "alice", "--replay-redis-password-file", self.alice])

    def test_no_password_is_refused_at_start(self):
        rc, err = start_fails(self, self.args)
        self.assertEqual(rc, 2, err)
        self.assertIn("not allowed: 'NOAUTH", err)

    def test_wrong_password_is_refused_at_start(self):
        """exit 2 (the unit does not restart on it): a wrong password does
        not fix itself, and every handshake would be refused."""
        wrong = secret_file(self.dir, "wrong", "not-" + PASSWORD)
        rc, err = start_fails(self, self.args + ["--replay-redis-password-file", wrong])
        self.assertEqual(rc, 2, err)
        self.assertIn("AUTH refused: 'WRONGPASS", err)
        self.assertEqual(len([l for l in err.splitlines() if "cannot start" in l]), 1, err)
        self.assertNotIn("not-" + PASSWORD, err)
        rc, err = start_fails(self, self.args + ["--replay-redis-user", "alice", "--replay-redis-password-file",
                                                 self.pw])
        self.assertEqual(rc, 2, err)
        self.assert_no_password(err)

    def test_password_file_others_can_read_or_write(self):
        # the rule of the state files (fileperm.h), and not readable by every user
        for mode, why in ((0o644, "is readable by every user (mode 0644)"),
                          (0o604, "is readable by every user (mode 0604)"),
                          (0o620, "is owned by uid 0 (root) with mode 0620; needed:"),
                          (0o602, "is owned by uid 0 (root) with mode 0602; needed:"),
                          (0o666, "is owned by uid 0 (root) with mode 0666; needed:")):
            with self.subTest(mode=oct(mode)):
                path = secret_file(self.dir, "pw-%o" % mode, PASSWORD, mode)
                rc, err = start_fails(self, self.args + ["--replay-redis-password-file", path])
                self.assertEqual(rc, 2, err)
                self.assertIn("caller-echo: --replay-redis-password-file: '%s' %s" % (path, why), err)
                self.assert_no_password(err)
        # group-readable is how a package ships it (root:caller-echo 0640)
        path = secret_file(self.dir, "pw-640", PASSWORD, 0o640)
        with Server(args=self.args + ["--replay-redis-password-file", path]) as srv:
            self.assertEqual(present(srv, make_jwt(srv.secret))[0], 101)
        for args, why in ((["--replay-redis-password-file", os.path.join(self.dir, "nope")], "cannot open"),
                          (["--replay-redis-password-file", secret_file(self.dir, "empty", "")], "is empty"),
                          (["--replay-redis-user", "alice"], "--replay-redis-user needs --replay-redis-password-file")):
            with self.subTest(args=args):
                rc, err = start_fails(self, self.args + args)
                self.assertEqual((rc, why in err), (2, True), err)

    def test_password_changed_at_runtime_is_503(self):
        """Redis's password changes under a running server: its connection is
        cut, the reconnect's AUTH refused: 503 (auth), logged once, and back
        when the password is."""
        rd = RedisWith(["--requirepass", PASSWORD]).start()
        try:
            args = ["--replay-redis", "127.0.0.1:%d" % rd.port, "--replay-redis-timeout", "2000",
                    "--replay-redis-password-file", self.pw]
            with Server(args=args) as srv:
                call = HonestCall(srv, 3.5).start()
                self.addCleanup(call.wait)
                self.assertEqual(wait_open(srv, 1), 1)
                other = "changed-" + os.urandom(4).hex()
                self.assertIn(b"+OK", redis_cmd(rd.port, ("AUTH", PASSWORD), ("CONFIG", "SET", "requirepass", other),
                                                ("CLIENT", "KILL", "TYPE", "normal")))
                for _ in range(2):
                    self.assertEqual(present(srv, make_jwt(srv.secret))[0], 503)
                    time.sleep(RETRY_S)
                st = stats(srv)["replay_store"]
                self.assertEqual(st["redis_errors"]["auth"], 2)
                log = srv.stderr_text()
                self.assertEqual(log.count("is not answering"), 1, log)
                self.assertIn("is not answering (auth: AUTH refused: 'WRONGPASS", log)
                redis_cmd(rd.port, ("AUTH", other), ("CONFIG", "SET", "requirepass", PASSWORD))
                self.assertEqual(present(srv, make_jwt(srv.secret))[0], 101)
                self.assertIn("answers again", srv.stderr_text())
                call.assert_clean(self)
                self.assert_no_password(srv.stderr_text())
                self.assertNotIn(other, srv.stderr_text())
        finally:
            rd.stop()
            shutil.rmtree(rd.dir, ignore_errors=True)


@required(REDIS, "redis-server missing: scripts/deps.sh test installs it")
class Tls(unittest.TestCase):
    """redis-server with --tls-port; a CA and certificates made here."""

    @classmethod
    def setUpClass(cls):
        d = cls.dir = tempfile.mkdtemp(prefix="redis-tls-", dir=tmp_root())
        ca, other_ca = make_ca(d, "ca"), make_ca(d, "other-ca")
        cls.ca = ca[0]
        good = make_leaf(d, "localhost", ca, "DNS:localhost,IP:127.0.0.1")
        wrong_name = make_leaf(d, "redis.example", ca, "DNS:redis.example")
        wrong_ca = make_leaf(d, "localhost-other", other_ca, "DNS:localhost,IP:127.0.0.1")
        cls.pw = secret_file(d, "pw", PASSWORD)
        auth = ["--requirepass", PASSWORD]
        cls.good = RedisWith(auth, tls=good + (ca[0],)).start()
        cls.wrong_name = RedisWith(auth, tls=wrong_name + (ca[0],)).start()
        cls.wrong_ca = RedisWith(auth, tls=wrong_ca + (other_ca[0],)).start()
        cls.plain = RedisWith(auth).start()

    @classmethod
    def tearDownClass(cls):
        for rd in (cls.good, cls.wrong_name, cls.wrong_ca, cls.plain):
            rd.stop()
            shutil.rmtree(rd.dir, ignore_errors=True)

    def args(self, rd, host="localhost", ca=True):
        return (["--replay-redis", "%s:%d" % (host, rd.port), "--replay-redis-timeout", "2000",
                 "--replay-redis-tls", "--replay-redis-password-file", self.pw]
                + (["--replay-redis-ca", self.ca] if ca else []))

    def test_verified_one_use_across_two_servers(self):
        secret = os.urandom(24).hex().encode()
        for host in ("localhost", "127.0.0.1"):   # by DNS name (and SNI), by IP address
            with self.subTest(host=host):
                args = self.args(self.good, host)
                with Server(secret=secret, args=args) as a, Server(secret=secret, args=args) as b:
                    for x, y in ((a, b), (b, a)):
                        token = make_jwt(secret)
                        self.assertEqual(present(x, token)[0], 101)
                        self.assertEqual(present(y, token)[0], 401, "accepted by another server")
                    # the round trip over TLS, for the record (docs/deploy.md 3a)
                    for _ in range(100):
                        self.assertEqual(present(a, make_jwt(secret))[0], 101)
                    st = stats(a)["replay_store"]
                    self.assertEqual((st["kind"], st["errors"], st["reconnects"]), ("redis", 0, 0))
                    print("\n  redis over TLS (%s), round trip per handshake: avg %d us, max %d us over %d checks"
                          % (host, st["rtt_us_avg"], st["rtt_us_max"], st["checks"]), flush=True)
                    self.assertIn("(%s), TLS verified, AUTH answers" % host, a.stderr_text())
                    self.assertNotIn(PASSWORD, a.stderr_text())

    def test_certificate_for_another_name(self):
        rc, err = start_fails(self, self.args(self.wrong_name))
        self.assertEqual(rc, 2, err)
        self.assertIn("the certificate of localhost did not verify: hostname mismatch", err)
        # the IP address is not in it either
        rc, err = start_fails(self, self.args(self.wrong_name, "127.0.0.1"))
        self.assertEqual(rc, 2, err)
        self.assertIn("did not verify: IP address mismatch", err)

    def test_certificate_from_another_ca(self):
        rc, err = start_fails(self, self.args(self.wrong_ca))
        self.assertEqual(rc, 2, err)
        self.assertIn("the certificate of localhost did not verify: ", err)
        # our own CA is in no system trust store either
        rc, err = start_fails(self, self.args(self.good, ca=False))
        self.assertEqual(rc, 2, err)
        self.assertIn("did not verify", err)

    def test_tls_and_plain_mixed_up(self):
        """Nothing to verify, so nothing to say but that it does not answer: exit 1."""
        args = self.args(self.plain)
        args[args.index("--replay-redis-timeout") + 1] = "300"
        rc, err = start_fails(self, args)   # the ClientHello is no Redis command: no answer
        self.assertEqual(rc, 1, err)
        self.assertIn("no TLS handshake within the timeout", err)
        args = ["--replay-redis", "127.0.0.1:%d" % self.good.port, "--replay-redis-password-file", self.pw]
        rc, err = start_fails(self, args)   # AUTH is no TLS record: Redis hangs up (closed or reset)
        self.assertEqual(rc, 1, err)
        self.assertIn("(connection)", err)

    def test_tls_options_need_each_other(self):
        for args, why in ((["--replay-redis-tls"], "--replay-redis-tls needs --replay-redis"),
                          (["--replay-redis", "127.0.0.1:1", "--replay-redis-ca", self.ca],
                           "--replay-redis-ca needs --replay-redis-tls"),
                          (["--replay-redis", "127.0.0.1:1", "--replay-redis-tls", "--replay-redis-ca",
                            os.path.join(self.dir, "nope.pem")], "--replay-redis-ca: cannot read")):
            with self.subTest(args=args):
                rc, err = start_fails(self, args)
                self.assertEqual((rc, why in err), (2, True), err)


class OffHost(unittest.TestCase):
    """A store across a network decides which tokens get in: without TLS
    anyone on the path reads and answers for it, without a password anyone
    who reaches it writes to it. Refused before anything is sent."""

    def test_non_loopback_redis_without_tls_and_password(self):
        d = tempfile.mkdtemp(prefix="redis-off-", dir=tmp_root())
        pw = secret_file(d, "pw", PASSWORD)
        for extra in ([], ["--replay-redis-tls"], ["--replay-redis-password-file", pw]):
            with self.subTest(extra=extra):
                rc, err = start_fails(self, ["--replay-redis", "192.0.2.1:6379"] + extra)
                self.assertEqual(rc, 2, err)
                lines = [l for l in err.splitlines() if l.strip()]
                self.assertEqual(len(lines), 1, err)
                self.assertIn("cannot start: --replay-redis: Redis at 192.0.2.1 (192.0.2.1) is not on this host: "
                              "it needs --replay-redis-tls and --replay-redis-password-file", lines[0])
        # with both it is tried: 192.0.2.1 (TEST-NET-1) does not answer, which is exit 1
        rc, err = start_fails(self, ["--replay-redis", "192.0.2.1:6379", "--replay-redis-timeout", "100",
                                     "--replay-redis-tls", "--replay-redis-password-file", pw])
        self.assertEqual(rc, 1, err)
        self.assertNotIn("is not on this host", err)
        self.assertNotIn(PASSWORD, err)


if __name__ == "__main__":
    unittest.main()
