"""
test_attack_proxy.py -- security round three (issue 19): who counts as the
operator, whose refusals are logged, and who may hold connections.

  finding                                     attack                                  expected
  1 proxy headers from an undeclared peer     X-Forwarded-For/Forwarded/X-Real-IP/...  admin and stats 403, never
    (nginx in front, --trusted-proxy unset)   from 127.0.0.1 with Host: localhost      "this host"; one loud log line,
                                                                                       counted
  2 forwarded loopback address                X-Forwarded-For 127.0.0.1, ::1,          admin and stats 403 from a
                                              ::ffff:127.0.0.1 from a trusted proxy    trusted proxy too
  3 DNS rebinding of the read views           Host: evil.example from 127.0.0.1        /stats, /stats.json, /metrics 403
                                              (and a real Chromium whose name for      (only loopback names open them)
                                              rebound.example is 127.0.0.1)
  7 strikes split over an IPv6 /64            40 addresses of one /64, 1,000 guesses   the /64 is blocked, a fresh
                                              (forwarded, and real sockets in a        address of it refused
                                              network namespace)
  7 one client hiding another in the log      one client floods, another is refused    every refusal of the second is
                                              15 times                                 written or counted as held back;
                                                                                       fail2ban sees it
  10 slow bodies taking every connection      two addresses trickle ~110 bodies each,  /healthz answers and a new call
                                              one byte at a time                       gets in at once; the tricklers'
                                                                                       oldest are closed, counted

Every class runs an honest call (honest.py) alongside that must lose nothing.
"""
import json
import os
import select
import shutil
import socket
import subprocess
import sys
import time
import unittest

from attack import delta, healthy, rejected, upgrade
from harness import HERE, REPO, Server, clean_env, curl, make_jwt, stats, tmp_root
from honest import HonestCall
from test_admin import admin
from test_attack_handshake import HandshakeCase, wait_open

PROXY_HEADERS = [("X-Forwarded-For", "203.0.113.9"), ("X-Forwarded-For", "127.0.0.1"),
                 ("Forwarded", "for=203.0.113.9"), ("X-Real-IP", "203.0.113.9"),
                 ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "echo.example.com"),
                 ("Via", "1.1 nginx")]
READ_VIEWS = ("/stats", "/stats.json", "/metrics")


def get(srv, path, headers=(), src=None):
    args = []
    if src:
        args += ["--interface", src]
    for k, v in headers:
        args += ["-H", "%s: %s" % (k, v)]
    return curl(args + [srv.base + path])


def log_lines(srv, event):
    """The server's JSON log lines of one event, parsed."""
    out = []
    for line in srv.stderr_text().splitlines():
        if ('"event":"%s"' % event) in line:
            out.append(json.loads(line))
    return out


class UndeclaredProxy(HandshakeCase):
    """Finding 1, the server's layer: nginx passes an internet client's
    request on from 127.0.0.1 with the client's Host, but the operator
    forgot --trusted-proxy."""

    def test_proxied_requests_never_get_loopback_trust(self):
        with Server(args=["--log-format", "json"]) as srv:
            call = self.start_honest(srv)
            before = rejected(srv)
            for hdr in PROXY_HEADERS:
                with self.subTest(header=hdr):
                    h = [hdr, ("Host", "localhost")]
                    status, body = admin(srv, "blocks", headers=h)
                    self.assertEqual(status, 403, body)
                    self.assertIn(b"never through a proxy", body)
                    status, body = admin(srv, "block", {"cidr": "0.0.0.0/0"}, headers=h)
                    self.assertEqual(status, 403, body)
                    for path in READ_VIEWS:
                        self.assertEqual(get(srv, path, h)[0], 403, path)
            n = len(PROXY_HEADERS)
            self.assertEqual(delta(before, rejected(srv)), {"admin_access": 2 * n, "stats_access": 3 * n})
            # nothing was blocked; honest calls and the operator's own requests go on
            self.assertEqual(stats(srv)["admin"]["blocks"], [])
            self.assertEqual(admin(srv, "blocks", headers=[("Host", "localhost")])[0], 200)
            self.assertTrue(healthy(srv))
            d = stats(srv)
            self.assertEqual(d["security"]["proxy_headers_untrusted"], 5 * n)
            # said loudly, once (then once an hour), naming the fix
            loud = log_lines(srv, "untrusted_proxy")
            self.assertEqual(len(loud), 1, loud)
            self.assertEqual(loud[0]["level"], "error")
            self.assertIn("--trusted-proxy 127.0.0.1", loud[0]["fields"]["msg"])
            m = curl([srv.base + "/metrics"])[2].decode()
            self.assertIn("caller_echo_proxy_headers_untrusted_total %d\n" % (5 * n), m)
            call.assert_clean(self)

    def test_said_at_start_when_it_looks_proxied(self):
        """Plain HTTP on loopback behind an https --public-url is a TLS proxy
        in front: without --trusted-proxy the first line says so."""
        with Server(args=["--log-format", "json", "--public-url", "https://echo.example.com"]) as srv:
            warn = log_lines(srv, "untrusted_proxy")
            self.assertEqual(len(warn), 1, srv.stderr_text())
            self.assertIn("--trusted-proxy", warn[0]["fields"]["msg"])
        with Server(args=["--log-format", "json", "--public-url", "https://echo.example.com",
                          "--trusted-proxy", "127.0.0.1"]) as srv:
            self.assertEqual(log_lines(srv, "untrusted_proxy"), [])

    def test_a_declared_proxy_is_not_counted(self):
        with Server(args=["--trusted-proxy", "127.0.0.1"]) as srv:
            self.assertEqual(get(srv, "/healthz", [("X-Forwarded-For", "203.0.113.9")])[0], 200)
            self.assertEqual(stats(srv)["security"]["proxy_headers_untrusted"], 0)


class ForwardedLoopback(HandshakeCase):
    """Finding 2: from a trusted proxy, an X-Forwarded-For naming loopback
    is some client of the proxy's, never this host's operator."""

    def test_forwarded_loopback_opens_nothing(self):
        token = "admin-token-" + "5" * 24
        with Server(args=["--trusted-proxy", "127.0.0.1", "--admin-token", token]) as srv:
            call = self.start_honest(srv)
            before = rejected(srv)
            xffs = ("127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.2", "203.0.113.9, 127.0.0.1",
                    "127.0.0.1, ::1")
            for xff in xffs:
                with self.subTest(xff=xff):
                    h = [("X-Forwarded-For", xff), ("Host", "127.0.0.1")]
                    self.assertEqual(admin(srv, "blocks", headers=h)[0], 403)
                    self.assertEqual(admin(srv, "block", {"cidr": "0.0.0.0/0"}, headers=h)[0], 403)
                    for path in READ_VIEWS:
                        self.assertEqual(get(srv, path, h)[0], 403, path)
            self.assertEqual(delta(before, rejected(srv)),
                             {"admin_access": 2 * len(xffs), "stats_access": 3 * len(xffs)})
            self.assertEqual(stats(srv)["admin"]["blocks"], [])
            # the admin token through the proxy still works; the TCP peer itself is the operator
            h = [("X-Forwarded-For", "127.0.0.1"), ("Authorization", "Bearer " + token)]
            self.assertEqual(admin(srv, "blocks", headers=h)[0], 200)
            self.assertEqual(admin(srv, "blocks")[0], 200)
            self.assertEqual(get(srv, "/stats.json")[0], 200)
            call.assert_clean(self)


class Rebinding(HandshakeCase):
    """Finding 3: the Host rule of the admin API covers every privileged view."""

    def test_read_views_need_a_loopback_host(self):
        token = "stats-token-" + "7" * 24
        with Server(args=["--stats-token", token]) as srv:
            call = self.start_honest(srv)
            before = rejected(srv)
            bad = ("evil.example:%d" % srv.port, "rebound.example", "127.0.0.1.nip.io", "localhost.evil.example",
                   "0x7f.1", "[::2]", "10.0.0.1:%d" % srv.port)
            for host in bad:
                for path in READ_VIEWS:
                    with self.subTest(host=host, path=path):
                        status, _, body = get(srv, path, [("Host", host)])
                        self.assertEqual(status, 403)
                        self.assertNotIn(b"connections", body)
            self.assertEqual(delta(before, rejected(srv)), {"stats_access": 3 * len(bad)})
            for host in ("localhost:%d" % srv.port, "LOCALHOST", "127.0.0.1:%d" % srv.port, "127.9.9.9",
                         "[::1]:%d" % srv.port, "[::ffff:127.0.0.1]"):
                for path in READ_VIEWS:
                    self.assertEqual(get(srv, path, [("Host", host)])[0], 200, (host, path))
            # a request without Host (HTTP/1.0) is not known to be for a loopback name
            self.assertEqual(curl(["--http1.0", "-H", "Host:", srv.base + "/stats.json"])[0], 403)
            # the token is not a browser's: it opens the views whatever the Host
            self.assertEqual(get(srv, "/stats.json", [("Host", "evil.example"),
                                                      ("Authorization", "Bearer " + token)])[0], 200)
            call.assert_clean(self)

    def test_a_rebinding_page_in_a_real_browser(self):
        try:
            from webdriver import ChromeDriver
        except ImportError as e:
            self.fail("selenium missing (scripts/deps.sh test installs python3-selenium): %s" % e)
        with Server() as srv:
            call = self.start_honest(srv)
            # the browser's resolver says rebound.example is 127.0.0.1: a page
            # of that name is same-origin with these URLs and reaches the port
            with ChromeDriver() as drv:
                s = drv.session(["--host-resolver-rules=MAP rebound.example 127.0.0.1"])
                s.get("http://rebound.example:%d/" % srv.port)
                got = s.js("return fetch('/stats.json').then(r => r.text().then(t => [r.status, t]));")
                self.assertEqual(got[0], 403, got)
                self.assertNotIn("connections", got[1])
                got = s.js("return fetch('/metrics').then(r => r.status);")
                self.assertEqual(got, 403)
                # the operator's own page still reads its counters
                s.get("http://127.0.0.1:%d/stats" % srv.port)
                self.assertEqual(s.js("return fetch('/stats.json').then(r => r.status);"), 200)
            call.assert_clean(self)


class Ipv6Prefix(HandshakeCase):
    """Finding 7, first half: an IPv6 client is its /64."""

    ARGS = ["--trusted-proxy", "127.0.0.1", "--block-after", "20"]

    def guesses(self, srv, addrs, per_addr):
        bad = make_jwt(b"not-the-secret-" + b"x" * 30)
        codes = set()
        for i in range(per_addr):
            for a in addrs:
                codes.add(upgrade(srv, "127.0.0.1", token=bad, headers=[("X-Forwarded-For", a)])[0])
        return codes

    def test_forwarded_addresses_of_one_64_are_one_client(self):
        with Server(args=self.ARGS + ["--log-format", "json"]) as srv:
            call = self.start_honest(srv)
            addrs = ["2001:db8:7:1:%x::%x" % (i, i * 7 + 1) for i in range(40)]
            codes = self.guesses(srv, addrs, 25)          # 1,000 guesses
            self.assertEqual(codes, {401, 403})
            blocks = stats(srv)["admin"]["blocks"]
            self.assertEqual([(b["cidr"], b["source"]) for b in blocks], [("2001:db8:7:1::/64", "auto")])
            fresh = upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", "2001:db8:7:1:ffff::1")])
            self.assertEqual(fresh[0], 403)
            other = upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", "2001:db8:7:2::1")])
            self.assertEqual(other[0], 101)
            other[2].close()
            self.assertEqual(stats(srv)["admin"]["auto_blocks"], 1)
            call.assert_clean(self)

    def test_prefix_is_configurable(self):
        with Server(args=self.ARGS + ["--ipv6-prefix", "128"]) as srv:
            addrs = ["2001:db8:7:1::%x" % (i + 1) for i in range(3)]
            self.guesses(srv, addrs, 25)
            cidrs = sorted(b["cidr"] for b in stats(srv)["admin"]["blocks"])
            self.assertEqual(cidrs, sorted(a + "/128" for a in addrs))
            fresh = upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", "2001:db8:7:1::ffff")])
            self.assertEqual(fresh[0], 101)
            fresh[2].close()
        for bad in ("31", "129", "x"):
            p = subprocess.run([srv.binary, "--ipv6-prefix", bad], env=clean_env({"VONAGE_SIGNATURE_SECRET": "s" * 40}),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn(b"ipv6-prefix", p.stderr)

    @unittest.skipUnless(shutil.which("unshare") and shutil.which("ip"), "needs unshare and ip")
    def test_real_ipv6_sockets_in_a_namespace(self):
        """Direct IPv6 clients: 40 addresses of one /64 (the kernel lets a
        namespace bind any of them), blocked at accept as one."""
        p = subprocess.run(["unshare", "--net", sys.executable, "-c", "HERE_DIR = %r\n" % HERE + NETNS_V6],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, env=clean_env(), cwd=HERE)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out["blocks"], [["2001:db8:64::/64", "auto"]], out)
        self.assertEqual(out["fresh"], 0)       # blocked at accept: closed, not a byte answered
        self.assertEqual(out["other"], 101)
        self.assertGreater(out["blocked_at_accept"], 0)
        self.assertEqual(out["honest"], "clean", out)


NETNS_V6 = r'''
import json, socket, subprocess, sys
sys.path.insert(0, HERE_DIR)
from harness import Server, make_jwt, stats
from attack import read_head, upgrade_request
from honest import HonestCall
run = lambda *a: subprocess.run(list(a), check=True)
run("ip", "link", "set", "lo", "up")
run("ip", "-6", "route", "add", "local", "2001:db8:64::/64", "dev", "lo")
run("ip", "-6", "route", "add", "local", "2001:db8:65::/64", "dev", "lo")
run("sysctl", "-qw", "net.ipv6.ip_nonlocal_bind=1")

def up(srv, src, token):
    s = socket.socket(socket.AF_INET6)
    s.settimeout(5)
    s.bind((src, 0))
    s.connect(("::1", srv.port))
    try:
        s.sendall(upgrade_request(token=token, host="[::1]"))
        return read_head(s, 5)[0]
    except OSError:
        return 0
    finally:
        s.close()

out = {}
with Server(args=["--listen", "::", "--block-after", "20"]) as srv:
    call = HonestCall(srv, seconds=3).start()
    bad = make_jwt(b"not-the-secret-" + b"x" * 30)
    for i in range(25):
        for k in range(40):
            up(srv, "2001:db8:64::%x:%x" % (k, k + 1), bad)
    d = stats(srv)
    out["blocks"] = [[b["cidr"], b["source"]] for b in d["admin"]["blocks"]]
    out["blocked_at_accept"] = d["rejected"]["blocked"]
    out["fresh"] = up(srv, "2001:db8:64:0:ffff::9", make_jwt(srv.secret))
    out["other"] = up(srv, "2001:db8:65::1", make_jwt(srv.secret))
    r = call.wait()
    out["honest"] = "clean" if r and r["lost"] == 0 and r["echoed"] == r["sent"] == 150 and r["mismatched"] == 0 else r
print(json.dumps(out))
'''


class LogShare(HandshakeCase):
    """Finding 7, second half: one client's flood cannot hide another's
    refusals from the log (nor from fail2ban)."""

    def test_each_client_has_its_own_share(self):
        args = ["--trusted-proxy", "127.0.0.1", "--log-format", "json", "--block-after", "0",
                "--handshake-rate", "0"]
        with Server(args=args) as srv:
            call = self.start_honest(srv)
            bad = make_jwt(b"not-the-secret-" + b"x" * 30)
            flooder, victim = "203.0.113.66", "198.51.100.15"
            t0 = time.monotonic()
            for i in range(300):
                self.assertEqual(upgrade(srv, "127.0.0.1", token=bad, headers=[("X-Forwarded-For", flooder)])[0], 401)
                if i % 20 == 0:     # 15 refusals of the other client, spread through the flood
                    self.assertEqual(upgrade(srv, "127.0.0.1", token=bad, headers=[("X-Forwarded-For", victim)])[0],
                                     401)
            took = time.monotonic() - t0
            time.sleep(1.2)         # a share refills: the next line reports what was held back
            self.assertEqual(upgrade(srv, "127.0.0.1", token=bad, headers=[("X-Forwarded-For", victim)])[0], 401)
            self.assertEqual(upgrade(srv, "127.0.0.1", token=bad, headers=[("X-Forwarded-For", flooder)])[0], 401)
            lines = log_lines(srv, "handshake_refused")
            mine = {a: [l["fields"] for l in lines if l["fields"].get("remote") == a] for a in (flooder, victim)}
            # the victim: every refusal written, or held back and then reported
            v = mine[victim]
            self.assertEqual(len(v) + sum(f.get("held_back", 0) for f in v), 16, v)
            self.assertGreaterEqual(len(v), 10, "the victim's share is at least one burst")
            # the flooder spent its own share only: a burst, one a second, and the last line
            f = mine[flooder]
            self.assertLessEqual(len(f), 10 + int(took) + 2 + 1, (len(f), took))
            self.assertEqual(len(f) + sum(x.get("held_back", 0) for x in f), 301)
            d = stats(srv)
            self.assertEqual(d["security"]["log_lines_held_back"], 317 - len(f) - len(v))
            self.assertEqual(d["security"]["log_lines_suppressed"], 0)
            call.assert_clean(self)
            self.fail2ban_sees(srv, victim)

    def fail2ban_sees(self, srv, victim):
        """The shipped filter matches at least the jail's maxretry of the victim's lines."""
        regex = shutil.which("fail2ban-regex")
        if not regex:
            self.fail("fail2ban-regex missing: scripts/deps.sh test installs fail2ban")
        log = os.path.join(tmp_root(), "f2b-share-%d.log" % os.getpid())
        with open(log, "w") as fh:
            fh.write(srv.stderr_text())
        flt = os.path.join(REPO, "scripts", "fail2ban", "filter.d", "caller-echo.conf")
        p = subprocess.run([regex, "-o", "ip", log, flt], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=120)
        os.unlink(log)
        ips = p.stdout.decode().split()   # what fail2ban would count, and ban
        self.assertGreaterEqual(ips.count(victim), 10, p.stdout.decode()[-2000:])


class SlowBodies(HandshakeCase):
    """Finding 10: connections that are not calls cannot take every slot."""

    def test_tricklers_cannot_starve_calls_and_health_checks(self):
        # --max-calls 20: the server keeps 20 + 256 descriptors and takes at
        # most 212 connections; two addresses try to hold 110 each
        with Server(args=["--max-calls", "20", "--body-timeout", "60", "--handshake-timeout", "60",
                          "--log-format", "json"]) as srv:
            call = self.start_honest(srv, seconds=6.0)
            socks = []
            for src in ("127.0.0.2", "127.0.0.3"):
                for _ in range(110):
                    s = socket.socket()
                    s.bind((src, 0))
                    s.connect(("127.0.0.1", srv.port))
                    s.sendall(b"POST /webhooks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 500\r\n\r\n{")
                    socks.append(s)
            try:
                # keep trickling, one byte per connection every half second
                t_end = time.monotonic() + 2.5
                while time.monotonic() < t_end:
                    for s in socks:
                        try:
                            s.send(b" ")
                        except OSError:
                            pass
                    time.sleep(0.5)
                t0 = time.monotonic()
                self.assertTrue(healthy(srv, src="127.0.0.4"))
                self.assertLess(time.monotonic() - t0, 5.0, "the health check waited for the body timeout")
                # a new call gets in too, and runs clean
                late = HonestCall(srv, seconds=2.0).start()
                late.assert_clean(self)
                d = stats(srv)
                self.assertGreater(d["security"]["pending_evicted"], 0)
                self.assertEqual(d["rejected"]["conns_full"], 0)
                # the connections closed were the tricklers', oldest first
                ev = [l["fields"] for l in log_lines(srv, "connection_evicted")]
                self.assertTrue(ev and all(f["remote"] in ("127.0.0.2", "127.0.0.3") for f in ev), ev)
                closed = 0
                for s in socks:
                    r, _, _ = select.select([s], [], [], 0)
                    if r and not s.recv(4096, socket.MSG_PEEK):
                        closed += 1
                self.assertGreater(closed, 0)
            finally:
                for s in socks:
                    s.close()
            call.assert_clean(self)


if __name__ == "__main__":
    unittest.main()
