"""
test_replay.py -- a token is accepted once, whichever process sees it
(replay_store.h): across --reuse-port workers sharing --replay-file, across
a restart of a server with --replay-file, and across machines through a real
redis-server (Debian's, started here on loopback) with --replay-redis.

Each case presents one signed token twice -- to two processes, or to one
process before and after a restart -- and asserts the second is refused
with 401 `replay` (counted), while a server without a shared store accepts
it (the documented window: that is what the store is for). Redis: stopped
mid-test, handshakes are refused with 503 `replay_store_down` (counted,
never a stall longer than --replay-redis-timeout), or with
--replay-redis-down local checked in the process; when Redis comes back the
next second's handshakes use it again. The round-trip figures are printed.
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from attack import read_head, upgrade_request
from harness import Server, free_port, make_jwt, required, stats, tmp_root

REDIS = shutil.which("redis-server")


def present(port, token, timeout=5.0):
    """Upgrade with token on 127.0.0.1:port; returns the HTTP status."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(upgrade_request(token=token))
        status, _, _ = read_head(s, timeout)
        return status
    finally:
        s.close()


class RedisServer:
    """A throwaway redis-server on a free loopback port, nothing saved to disk."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-", dir=tmp_root())
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class SharedFile(unittest.TestCase):

    def test_workers_on_one_port_refuse_each_others_tokens(self):
        d = tempfile.mkdtemp(prefix="replay-", dir=tmp_root())
        path = os.path.join(d, "replay")
        port, wports = free_port(), (free_port(), free_port())
        secret = os.urandom(24).hex().encode()
        workers = [Server(secret=secret, port=port,
                          args=["--reuse-port", "--worker-port", str(wp), "--replay-file", path])
                   for wp in wports]
        with workers[0], workers[1]:
            for first, second in ((0, 1), (1, 0)):
                token = make_jwt(secret)
                self.assertEqual(present(wports[first], token), 101)
                self.assertEqual(present(wports[second], token), 401, "accepted by another worker")
            for w in workers:
                self.assertEqual(stats(w)["rejected"]["replay"], 1)
                self.assertEqual(stats(w)["replay_store"]["kind"], "file")
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)

    def test_a_restart_does_not_reopen_the_window(self):
        d = tempfile.mkdtemp(prefix="replay-", dir=tmp_root())
        path = os.path.join(d, "replay")
        secret = os.urandom(24).hex().encode()
        token = make_jwt(secret)
        port = free_port()
        with Server(secret=secret, port=port, args=["--replay-file", path]) as srv:
            self.assertEqual(present(srv.port, token), 101)
        with Server(secret=secret, port=port, args=["--replay-file", path]) as srv:
            self.assertEqual(present(srv.port, token), 401)
            self.assertEqual(stats(srv)["rejected"]["replay"], 1)
            self.assertEqual(present(srv.port, make_jwt(secret)), 101)   # a new token is fine

    def test_without_a_file_a_restart_forgets(self):
        """The documented window of the default (memory) store."""
        secret = os.urandom(24).hex().encode()
        token = make_jwt(secret)
        port = free_port()
        with Server(secret=secret, port=port) as srv:
            self.assertEqual(present(srv.port, token), 101)
            self.assertEqual(present(srv.port, token), 401)
        with Server(secret=secret, port=port) as srv:
            self.assertEqual(present(srv.port, token), 101)

    def test_bad_file_refuses_to_start(self):
        d = tempfile.mkdtemp(prefix="replay-", dir=tmp_root())
        path = os.path.join(d, "replay")
        with open(path, "w") as f:
            f.write("something else\n")
        with self.assertRaises(Exception) as ctx:
            Server(args=["--replay-file", path]).start()
        self.assertIn("is not a replay file", str(ctx.exception))
        with self.assertRaises(Exception) as ctx:
            Server(args=["--replay-file", path, "--replay-redis", "127.0.0.1:1"]).start()
        self.assertIn("choose one place", str(ctx.exception))


@required(REDIS, "redis-server missing: scripts/deps.sh test installs it")
class Redis(unittest.TestCase):

    def test_two_servers_share_redis(self):
        secret = os.urandom(24).hex().encode()
        with RedisServer() as rd:
            args = ["--replay-redis", "127.0.0.1:%d" % rd.port]
            with Server(secret=secret, args=args) as a, Server(secret=secret, args=args) as b:
                for x, y in ((a, b), (b, a)):
                    token = make_jwt(secret)
                    self.assertEqual(present(x.port, token), 101)
                    self.assertEqual(present(y.port, token), 401, "accepted on another machine")
                # the round trip, for the record (docs/deploy.md)
                n = 200
                for _ in range(n):
                    self.assertEqual(present(a.port, make_jwt(secret)), 101)
                st = stats(a)["replay_store"]
                self.assertEqual(st["kind"], "redis")
                self.assertEqual(st["errors"], 0)
                self.assertGreaterEqual(st["checks"], n + 2)
                print("\n  redis round trip per handshake: avg %d us, max %d us over %d checks"
                      % (st["rtt_us_avg"], st["rtt_us_max"], st["checks"]), flush=True)
                self.assertLess(st["rtt_us_avg"], 50000)

    def test_redis_down_refuses_then_recovers(self):
        secret = os.urandom(24).hex().encode()
        rd = RedisServer().start()
        try:
            with Server(secret=secret, args=["--replay-redis", "127.0.0.1:%d" % rd.port,
                                             "--replay-redis-timeout", "100"]) as srv:
                self.assertEqual(present(srv.port, make_jwt(secret)), 101)
                # stalled, not gone: the first check waits out the timeout, no longer
                os.kill(rd.proc.pid, signal.SIGSTOP)
                t0 = time.monotonic()
                self.assertEqual(present(srv.port, make_jwt(secret)), 503)
                first = time.monotonic() - t0
                # and the next ones within the second do not wait at all
                t0 = time.monotonic()
                for _ in range(5):
                    self.assertEqual(present(srv.port, make_jwt(secret)), 503)
                rest = (time.monotonic() - t0) / 5
                os.kill(rd.proc.pid, signal.SIGCONT)
                self.assertGreaterEqual(first, 0.09)
                self.assertLess(first, 1.0)
                self.assertLess(rest, 0.05)
                # stopped: refused while it is down
                rd.stop()
                time.sleep(1.1)
                self.assertEqual(present(srv.port, make_jwt(secret)), 503)
                d = stats(srv)
                self.assertGreaterEqual(d["rejected"]["replay_store_down"], 7)
                self.assertGreaterEqual(d["replay_store"]["errors"], 7)
                # back on the same port: the next second's handshakes use it again
                rd = RedisServer(rd.port).start()
                deadline = time.monotonic() + 5
                status = None
                while time.monotonic() < deadline and status != 101:
                    status = present(srv.port, make_jwt(secret))
                    time.sleep(0.2)
                self.assertEqual(status, 101)
                token = make_jwt(secret)
                self.assertEqual(present(srv.port, token), 101)
                self.assertEqual(present(srv.port, token), 401)
                log = srv.stderr_text()
                self.assertIn("is not answering", log)
                self.assertIn("answers again", log)
                self.assertGreaterEqual(stats(srv)["replay_store"]["reconnects"], 1)
        finally:
            if rd.proc.poll() is None:
                os.kill(rd.proc.pid, signal.SIGCONT)
            rd.stop()

    def test_down_local_checks_in_the_process(self):
        secret = os.urandom(24).hex().encode()
        with RedisServer() as rd:
            with Server(secret=secret, args=["--replay-redis", "127.0.0.1:%d" % rd.port,
                                             "--replay-redis-down", "local"]) as srv:
                rd.stop()
                token = make_jwt(secret)
                self.assertEqual(present(srv.port, token), 101)
                self.assertEqual(present(srv.port, token), 401)   # the local table still holds
                st = stats(srv)["replay_store"]
                self.assertGreaterEqual(st["fallbacks"], 2)

    def test_unreachable_at_start_is_an_error(self):
        with self.assertRaises(Exception) as ctx:
            Server(args=["--replay-redis", "127.0.0.1:%d" % free_port()]).start()
        self.assertIn("--replay-redis: Redis at 127.0.0.1:", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
