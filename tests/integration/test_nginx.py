"""
test_nginx.py -- scripts/nginx/caller-echo.conf in front of two instances
(README "Deploy"), and the example Prometheus configuration.

Debian's nginx runs unprivileged-style from a temporary prefix (own pid,
logs and temp dirs) on a loopback port, with the shipped site file: only the
listen line, certificate paths and upstream addresses are replaced, and the
test fails if any of them is no longer found. Through it: the NCCO says
wss://<the address the caller used>, caller-sim's calls all come back with
zero loss, least_conn spread them over both instances (their own
/stats.json say so, and add up to what the simulator sent), the counters
are not reachable through the proxy, and the client address reaches the
instance through X-Forwarded-For when the instance trusts the proxy (a
client bound to 127.0.0.5; a spoofed X-Forwarded-For from it is ignored).
"""
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import websockets

from harness import REPO, Server, bearer, curl, free_port, required, stats, tls_pair
from test_sim import run_json
from test_ws import connected_msg, frame

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
PROMTOOL = shutil.which("promtool")
SITE = os.path.join(REPO, "scripts", "nginx", "caller-echo.conf")


def seconds(v):
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d)?", v)
    n, unit = int(m.group(1)), m.group(2) or "s"
    return n * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]


def site_for_test(port, upstreams, cert, key):
    """The shipped site file with test addresses; every replaced line must exist once."""
    with open(SITE) as f:
        text = f.read()
    subs = [(r"(?m)^(\s*)listen 443 ssl;", r"\1listen 127.0.0.1:%d ssl;" % port),
            (r"(?m)^(\s*ssl_certificate)\s+\S+;", r"\1 %s;" % cert),
            (r"(?m)^(\s*ssl_certificate_key)\s+\S+;", r"\1 %s;" % key),
            # the shipped upstream is the one instance of the environment file;
            # least_conn is tested over two
            (r"(?m)^(\s*)server 127\.0\.0\.1:8080( .*)$",
             r"\g<1>server 127.0.0.1:%d\2\n\1server 127.0.0.1:%d\2" % tuple(upstreams))]
    for pattern, repl in subs:
        text, n = re.subn(pattern, repl, text)
        if n != 1:
            raise AssertionError("%s: expected one line matching %r, found %d" % (SITE, pattern, n))
    return text


class Nginx:
    """nginx -p <tmp> in the foreground, as a context manager."""

    def __init__(self, site_text, port):
        self.site_text, self.port = site_text, port

    def __enter__(self):
        # under /tmp, not the 0700 test root: nginx's workers must reach their temp dirs
        self.dir = tempfile.mkdtemp(prefix="caller-echo-nginx-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        with open(os.path.join(d, "site.conf"), "w") as f:
            f.write(self.site_text)
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(user + """worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 256; }
http {
    access_log %(d)s/access.log;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    include %(d)s/site.conf;
}
""" % {"d": d})
        base = [NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf")]
        t = subprocess.run(base + ["-t"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30)
        if t.returncode:
            self.__exit__()
            raise AssertionError("nginx -t:\n" + t.stdout.decode())
        self.proc = subprocess.Popen(base + ["-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if curl(["https://127.0.0.1:%d/healthz" % self.port], timeout=2)[0] == 200:
                return self
            time.sleep(0.05)
        log = self.error_log()
        self.__exit__()
        raise AssertionError("nginx not serving on %d:\n%s" % (self.port, log))

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def __exit__(self, *exc):
        p = getattr(self, "proc", None)
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGQUIT)   # graceful: workers finish, master exits
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        shutil.rmtree(self.dir, True)
        return False


@required(NGINX, "nginx missing: scripts/deps.sh test installs it (Debian package nginx)")
class ThroughNginx(unittest.TestCase):
    """nginx and instances a, b are shared by the tests here (counters are compared as deltas)."""

    @classmethod
    def setUpClass(cls):
        cls.secret = os.urandom(24).hex().encode()
        extra = ["--trusted-proxy", "127.0.0.1"]
        cls.servers = [Server(secret=cls.secret, args=extra + ["--worker-id", w]) for w in "ab"]
        cls.port = free_port()
        cls.front = "https://127.0.0.1:%d" % cls.port
        cert, key = tls_pair()
        try:
            for srv in cls.servers:
                srv.start()
            cls.nginx = Nginx(site_for_test(cls.port, [s.port for s in cls.servers], cert, key),
                              cls.port).__enter__()
        except BaseException:
            for srv in cls.servers:
                srv.kill()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.nginx.__exit__()
        for srv in cls.servers:
            srv.kill()

    def test_ncco_says_wss_through_the_proxy(self):
        status, _, body = curl([self.front + "/webhooks/answer?uuid=u1&from=1&to=2"])
        self.assertEqual(status, 200, body)
        ep = [x for x in json.loads(body) if x["action"] == "connect"][0]["endpoint"][0]
        self.assertEqual(ep["uri"], "wss://127.0.0.1:%d/socket" % self.port)

    def test_calls_spread_over_two_instances(self):
        before = [stats(s) for s in self.servers]
        r = run_json(self, ["--calls", "12", "--duration", "1", "--insecure",
                            self.front + "/webhooks/answer"], self.secret)
        self.assertEqual((r["connected"], r["done"], r["failed"], r["lost"], r["mismatched"]),
                         (12, 12, 0, 0, 0))
        self.assertEqual(r["echoed"], r["sent"])
        after = [stats(s) for s in self.servers]
        self.assertEqual([d["worker"] for d in after], ["a", "b"])

        def delta(k):
            return [y["totals"][k] - x["totals"][k] for x, y in zip(before, after)]
        calls = delta("connections_total")
        self.assertEqual(sum(calls), 12, calls)
        # least_conn with 12 calls open together: neither instance can have them all
        self.assertTrue(all(c >= 3 for c in calls), "calls per instance: %r" % calls)
        for k in ("packets_received", "packets_sent"):
            self.assertEqual(sum(delta(k)), r["sent"], k)

    def test_counters_are_not_proxied(self):
        for path in ("/stats", "/stats.json", "/metrics"):
            self.assertEqual(curl([self.front + path])[0], 403, path)

    def test_client_address_forwarded(self):
        remotes = asyncio.run(asyncio.wait_for(self.open_from(), 30))
        self.assertEqual(remotes, ["127.0.0.5"])

    async def open_from(self):
        """A call from 127.0.0.5 with a spoofed X-Forwarded-For; the remote the instances see."""
        import ssl
        ctx = ssl.create_default_context(cafile=tls_pair()[0])
        ws = await websockets.connect(
            "wss://127.0.0.1:%d/socket" % self.port, ssl=ctx, local_addr=("127.0.0.5", 0),
            extra_headers=[bearer(self.secret), ("X-Forwarded-For", "203.0.113.9")],
            ping_interval=None, open_timeout=5)
        await ws.send(connected_msg("xff-call"))
        await ws.send(frame(0))
        await ws.recv()
        loop = asyncio.get_running_loop()
        seen = []
        for srv in self.servers:
            d = await loop.run_in_executor(None, stats, srv)
            seen += [c["remote"] for c in d["connections"] if c["uuid"] == "xff-call"]
        await ws.close()
        return seen


@required(PROMTOOL, "promtool missing: scripts/deps.sh test installs it (Debian package prometheus)")
class PrometheusExample(unittest.TestCase):

    def test_promtool_accepts_it(self):
        path = os.path.join(REPO, "scripts", "prometheus", "prometheus.yml")
        p = subprocess.run([PROMTOOL, "check", "config", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        self.assertIn("SUCCESS", p.stdout.decode())


class SiteFile(unittest.TestCase):
    """What a call needs from the proxy, read from the shipped file."""

    def test_call_settings(self):
        with open(SITE) as f:
            text = f.read()
        for directive in ("proxy_read_timeout", "proxy_send_timeout"):
            m = re.search(r"(?m)^\s*%s\s+(\S+);" % directive, text)
            self.assertIsNotNone(m, directive)
            self.assertGreaterEqual(seconds(m.group(1)), 2 * 3600, directive)
        for line in ("proxy_http_version 1.1;", "proxy_set_header Upgrade $http_upgrade;",
                     "proxy_set_header X-Forwarded-Proto https;",
                     "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "least_conn;"):
            self.assertRegex(text, r"(?m)^\s*" + re.escape(line) + "$")


if __name__ == "__main__":
    unittest.main()
