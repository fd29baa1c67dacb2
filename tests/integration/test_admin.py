"""
test_admin.py -- the operator intervenes (issue "Security, round two"):
the admin API (hang up a call, block and unblock an address or range,
list the blocks), who may use it, automatic blocking, and blocks kept
across SIGHUP and, with --block-file, a restart. End to end against the
real binary, with curl and raw sockets, an honest call running where an
action could hurt it.

"Outside" clients are X-Forwarded-For addresses from a --trusted-proxy
(as behind nginx), or a real non-loopback address in a private network
namespace (BlockedAtAccept).
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import unittest

from attack import OP_BIN, OP_TEXT, connect_from, delta, healthy, read_head, rejected, upgrade, upgrade_request
from harness import HERE, Server, clean_env, curl, make_jwt, stats, tmp_root
from test_attack_handshake import HandshakeCase, wait_open

OUTSIDE = "203.0.113.50"


def admin(srv, action, body=None, headers=(), src=None, method=None, ctype="application/json"):
    """POST /admin/<action> with a JSON body (or GET when body is None);
    returns (status, parsed JSON or raw bytes)."""
    args = ["-X", method or ("POST" if body is not None else "GET")]
    if src:
        args += ["--interface", src]
    for k, v in headers:
        args += ["-H", "%s: %s" % (k, v)]
    if body is not None:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        args += ["-H", "Content-Type: " + ctype, "--data-binary", data if isinstance(data, str) else data.decode()]
    status, _, out = curl(args + [srv.base + "/admin/" + action])
    try:
        return status, json.loads(out)
    except ValueError:
        return status, out


def open_call(srv, src="127.0.0.2", uuid=None, headers=()):
    status, _, ws = upgrade(srv, src, headers=headers)
    assert status == 101, status
    if uuid:
        ws.send(OP_TEXT, json.dumps({"event": "websocket:connected", "content-type": "audio/l16;rate=16000",
                                     "uuid": uuid}).encode())
    ws.send(OP_BIN, b"\x01" * 640)
    assert ws.recv_frame()[1] == OP_BIN
    return ws


def call_ids(srv):
    return {c["uuid"] or "-": c["id"] for c in stats(srv)["connections"]}


class AdminApi(HandshakeCase):

    def test_hangup_by_id_and_uuid(self):
        with Server() as srv:
            call = self.start_honest(srv, seconds=3.0)
            a = open_call(srv, uuid="call-a")
            b = open_call(srv, uuid="call-b")
            self.assertEqual(wait_open(srv, 3), 3)
            ids = call_ids(srv)
            status, out = admin(srv, "hangup", {"call": ids["call-a"]})
            self.assertEqual(status, 200, out)
            self.assertEqual(out, {"hung_up": 1, "call": ids["call-a"], "code": 1000})
            self.assertEqual(a.wait_close(), 1000)
            status, out = admin(srv, "hangup", {"uuid": "call-b", "code": 4001, "reason": "fraud"})
            self.assertEqual((status, out["hung_up"], out["code"]), (200, 1, 4001))
            self.assertEqual(b.wait_close(), 4001)
            for body in ({"call": 999999}, {"uuid": "nobody"}):
                self.assertEqual(admin(srv, "hangup", body), (404, {"error": "no open call matches"}))
            self.assertEqual(wait_open(srv, 1), 1)   # the honest call goes on
            d = stats(srv)
            self.assertEqual(d["admin"]["actions"], {"hangup": 2, "block": 0, "unblock": 0})
            recent = d["admin"]["recent"]
            self.assertEqual([(r["action"], r["target"], r["by"]) for r in recent],
                             [("hangup", "uuid call-b", "127.0.0.1"), ("hangup", "call %d" % ids["call-a"], "127.0.0.1")])
            self.assertEqual(d["closes"]["server"]["1000"], 1)
            self.assertIn("admin: hangup uuid call-b by 127.0.0.1: 1 call(s) closed with 4001", srv.stderr_text())
            call.assert_clean(self)

    def test_block_unblock_list(self):
        with Server() as srv:
            call = self.start_honest(srv, seconds=4.0)
            victim = open_call(srv, "127.0.0.4")
            status, out = admin(srv, "block", {"cidr": "127.0.0.2", "seconds": 60, "reason": "probing"})
            self.assertEqual(status, 200, out)
            self.assertEqual((out["blocked"], out["updated"], out["hung_up"]), ("127.0.0.2/32", False, 0))
            self.assertAlmostEqual(out["expires"], time.time() + 60, delta=3)
            before = rejected(srv)
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 403)
            self.assertEqual(curl(["--interface", "127.0.0.2", srv.base + "/healthz"])[0], 403)
            self.assertEqual(upgrade(srv, "127.0.0.3")[0], 101)   # a neighbour is not blocked
            self.assertDelta(srv, before, {"blocked": 2})
            # a range, with its open calls hung up (1008)
            status, out = admin(srv, "block", {"cidr": "127.0.0.4/32", "seconds": 0, "hangup": True})
            self.assertEqual((status, out["hung_up"], out["expires"]), (200, 1, 0))
            self.assertEqual(victim.wait_close(), 1008)
            status, out = admin(srv, "blocks")
            self.assertEqual(status, 200)
            got = {b["cidr"]: (b["source"], b["reason"], b["by"], b["expires_in"]) for b in out["blocks"]}
            self.assertEqual(got["127.0.0.4/32"], ("manual", "operator", "127.0.0.1", None))
            self.assertEqual(got["127.0.0.2/32"][:3], ("manual", "probing", "127.0.0.1"))
            self.assertTrue(55 <= got["127.0.0.2/32"][3] <= 60)
            self.assertEqual([b["hits"] for b in out["blocks"] if b["cidr"] == "127.0.0.2/32"], [2])
            # unblock: exactly as listed
            self.assertEqual(admin(srv, "unblock", {"cidr": "127.0.0.0/24"})[0], 404)
            self.assertEqual(admin(srv, "unblock", {"cidr": "127.0.0.2"}), (200, {"unblocked": "127.0.0.2/32"}))
            ws = open_call(srv, "127.0.0.2")
            ws.close()
            d = stats(srv)
            self.assertEqual(d["admin"]["actions"], {"hangup": 0, "block": 2, "unblock": 1})
            self.assertEqual([b["cidr"] for b in d["admin"]["blocks"]], ["127.0.0.4/32"])
            call.assert_clean(self)

    def test_block_expires(self):
        with Server() as srv:
            # expiry is counted on the server's whole-second clock, so a block
            # of S seconds lasts between S - 1 and S: 3 leaves the sanitizer
            # build, run beside the plain suite, two seconds to ask (1 did not)
            self.assertEqual(admin(srv, "block", {"cidr": "127.0.0.2", "seconds": 3})[0], 200)
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 403)
            time.sleep(4.2)
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 101)
            self.assertEqual(admin(srv, "blocks"), (200, {"blocks": []}))

    def test_blocked_operator_can_still_unblock(self):
        """Blocking loopback itself does not lock the operator out."""
        with Server() as srv:
            self.assertEqual(admin(srv, "block", {"cidr": "127.0.0.0/8", "seconds": 0})[0], 200)
            self.assertEqual(curl([srv.base + "/stats.json"])[0], 403)
            self.assertEqual(admin(srv, "unblock", {"cidr": "127.0.0.0/8"})[0], 200)
            self.assertEqual(curl([srv.base + "/stats.json"])[0], 200)

    def test_stats_page_and_metrics_show_it(self):
        with Server() as srv:
            admin(srv, "block", {"cidr": "192.0.2.0/24", "reason": "scanner"})
            status, _, page = curl([srv.base + "/stats"])
            self.assertEqual(status, 200)
            page = page.decode()
            self.assertIn('<td data-k="cidr" class="l">192.0.2.0/24</td>', page)
            self.assertIn('<td data-k="reason" class="l">scanner</td>', page)
            self.assertIn('<td data-k="action" class="l">block</td>', page)
            status, _, m = curl([srv.base + "/metrics"])
            m = m.decode()
            self.assertIn('caller_echo_blocks_active{source="manual"} 1\n', m)
            self.assertIn('caller_echo_admin_actions_total{action="block"} 1\n', m)


class AdminAccess(HandshakeCase):
    """Who may act: loopback, or the --admin-token bearer; never the stats
    token; never a web page (Origin, or a Host that is not loopback: DNS
    rebinding) without the token."""

    def test_loopback_rules(self):
        with Server(args=["--stats-token", "stats-token-0123456789"]) as srv:
            before = rejected(srv)
            self.assertEqual(admin(srv, "blocks", src="127.0.0.9")[0], 200)
            for hdrs in ([("Origin", "http://evil.example")], [("Origin", "http://127.0.0.1:%d" % srv.port)],
                         [("Host", "evil.example:%d" % srv.port)], [("Host", "rebound.example")],
                         [("Authorization", "Bearer stats-token-0123456789"), ("Origin", "http://x")]):
                with self.subTest(headers=hdrs):
                    status, body = admin(srv, "block", {"cidr": "192.0.2.1"}, headers=hdrs)
                    self.assertEqual(status, 403)
                    self.assertTrue(body.startswith(b"forbidden: "), body)
            # loopback names are fine
            for host in ("localhost:%d" % 1, "127.0.0.1", "[::1]:80"):
                self.assertEqual(admin(srv, "blocks", headers=[("Host", host)])[0], 200, host)
            self.assertDelta(srv, before, {"admin_access": 5})
            self.assertEqual(stats(srv)["admin"]["actions"]["block"], 0)

    def test_outside_needs_the_admin_token(self):
        args = ["--trusted-proxy", "127.0.0.1", "--stats-token", "stats-token-0123456789",
                "--admin-token", "admin-token-0123456789"]
        with Server(args=args) as srv:
            xff = ("X-Forwarded-For", OUTSIDE)
            before = rejected(srv)
            for hdrs in ([xff], [xff, ("Authorization", "Bearer stats-token-0123456789")],
                         [xff, ("Authorization", "Bearer admin-token-012345678")],
                         [xff, ("Authorization", "Bearer admin-token-0123456789x")]):
                self.assertEqual(admin(srv, "blocks", headers=hdrs)[0], 403)
            self.assertDelta(srv, before, {"admin_access": 4})
            ok = [xff, ("Authorization", "Bearer admin-token-0123456789")]
            self.assertEqual(admin(srv, "blocks", headers=ok)[0], 200)
            # with the token a page of ours may act (no cookies exist to ride on)
            status, out = admin(srv, "block", {"cidr": "198.51.100.0/24"},
                                headers=ok + [("Origin", "https://ops.example")])
            self.assertEqual(status, 200, out)
            self.assertEqual(stats(srv)["admin"]["recent"][0]["by"], OUTSIDE)
            # the stats token still reads /stats, and only that
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, "-H",
                                   "Authorization: Bearer stats-token-0123456789", srv.base + "/stats.json"])[0], 200)

    def test_bad_requests(self):
        with Server() as srv:
            self.assertEqual(admin(srv, "block", {"cidr": "x"}),
                             (400, {"error": "'cidr' must be an address or CIDR like 203.0.113.0/24"}))
            self.assertEqual(admin(srv, "block", "{\"cidr\":", ), (400, {"error": "body must be one JSON object"}))
            self.assertEqual(admin(srv, "hangup", {"call": 1, "code": 1006})[0], 400)
            self.assertEqual(admin(srv, "block", {"cidr": "192.0.2.1"}, ctype="text/plain")[0], 415)
            self.assertEqual(admin(srv, "block", {"cidr": "192.0.2.1"}, ctype="application/x-www-form-urlencoded")[0], 415)
            self.assertEqual(admin(srv, "block", "x" * 5000)[0], 413)
            self.assertEqual(admin(srv, "block", method="GET")[0], 405)       # no state change on GET
            self.assertEqual(admin(srv, "blocks", {}, method="POST")[0], 405)
            self.assertEqual(admin(srv, "nothing")[0], 404)
            d = stats(srv)
            self.assertEqual(d["admin"]["actions"], {"hangup": 0, "block": 0, "unblock": 0})
            self.assertEqual(d["admin"]["blocks"], [])
            # every 400, 413 and 415 is counted (never a strike: only the operator gets there)
            self.assertEqual(d["rejected"]["admin_bad_request"], 6)
            self.assertTrue(healthy(srv))


def post_raw(srv, action, body):
    """POST raw bytes (a NUL byte included) as JSON; returns (status, parsed JSON or raw bytes)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        c.request("POST", "/admin/" + action, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        out = r.read()
    finally:
        c.close()
    try:
        return r.status, json.loads(out)
    except ValueError:
        return r.status, out


class CjsonEdges(HandshakeCase):
    """Issue 19: what cJSON alone let through. "192.0.2.12\\u0000junk" blocked
    192.0.2.12 (cJSON's C string ends at the NUL), "seconds": -0 blocked until
    unblocked (-0.0 passed the whole-number check, and 0 means forever)."""

    NUMBER = ("numbers must be whole numbers written as plain digits (no fraction, exponent, leading zero or -0)")

    def test_nul_and_odd_numbers_are_refused(self):
        with Server() as srv:
            call = self.start_honest(srv, seconds=2.5)
            cases = [
                ("block", rb'{"cidr":"192.0.2.12\u0000junk"}', "a string holds \\u0000 (NUL)"),
                ("block", b'{"cidr":"192.0.2.12\x00junk"}', "the body holds a NUL byte"),
                ("block", rb'{"cidr":"192.0.2.12","reason":"x\u0000"}', "a string holds \\u0000 (NUL)"),
                ("unblock", rb'{"cidr":"192.0.2.0/24\u0000"}', "a string holds \\u0000 (NUL)"),
                ("hangup", rb'{"uuid":"call\u0000x"}', "a string holds \\u0000 (NUL)"),
                ("block", rb'{"cidr":"192.0.2.12","seconds":-0}', self.NUMBER),
                ("block", rb'{"cidr":"192.0.2.12","seconds":0.0}', self.NUMBER),
                ("block", rb'{"cidr":"192.0.2.12","seconds":1e3}', self.NUMBER),
                ("block", rb'{"cidr":"192.0.2.12","seconds":3600.0000000000001}', self.NUMBER),
                ("block", rb'{"cidr":"192.0.2.12","seconds":1e400}', self.NUMBER),
                ("hangup", rb'{"call":1,"code":01000}', self.NUMBER),
                ("hangup", rb'{"call":1.0}', self.NUMBER),
                ("block", rb'{"cidr":"192.0.2.12","cidr":"0.0.0.0/0"}',
                 "unknown or repeated member (expected cidr, seconds, reason, hangup)"),
            ]
            for action, body, why in cases:
                with self.subTest(body=body):
                    self.assertEqual(post_raw(srv, action, body), (400, {"error": why}))
            # nothing was blocked, nothing hung up; each refusal counted, on both views
            self.assertEqual(admin(srv, "blocks"), (200, {"blocks": []}))
            d = stats(srv)
            self.assertEqual(d["admin"]["actions"], {"hangup": 0, "block": 0, "unblock": 0})
            self.assertEqual(d["rejected"]["admin_bad_request"], len(cases))
            _, _, m = curl([srv.base + "/metrics"])
            self.assertIn('caller_echo_handshakes_refused_total{reason="admin_bad_request"} %d' % len(cases),
                          m.decode())
            # the plain spellings still work: 0 is "until unblocked", and says so
            status, out = admin(srv, "block", {"cidr": "192.0.2.12", "seconds": 0})
            self.assertEqual((status, out["expires"]), (200, 0))
            self.assertEqual(admin(srv, "unblock", {"cidr": "192.0.2.12/32"})[0], 200)
            call.assert_clean(self)

    def test_tokens_must_differ(self):
        p = subprocess.run([Server().binary, "--stats-token", "same-0123456789",
                            "--admin-token", "same-0123456789"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=clean_env({"VONAGE_SIGNATURE_SECRET": "s" * 40}), timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"--admin-token: must differ from --stats-token", p.stderr)


class TokenFiles(HandshakeCase):
    """Issue 19: --admin-token on the command line is in /proc/PID/cmdline for
    every local user. The tokens can come from files (--admin-token-file,
    --stats-token-file; ADMIN_TOKEN_FILE, STATS_TOKEN_FILE), the flag form
    warns at start and is blanked in the process's argv, the environment
    form still works."""

    def token_file(self, name, text, mode=0o600):
        d = os.path.join(tmp_root(), "tokens")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text + "\n")
        os.chmod(path, mode)
        return path

    def outside(self, srv, token, action="blocks", body=None):
        hdr = [("X-Forwarded-For", OUTSIDE)] + ([("Authorization", "Bearer " + token)] if token else [])
        return admin(srv, action, body, headers=hdr)[0]

    def cmdline(self, srv):
        with open("/proc/%d/cmdline" % srv.proc.pid, "rb") as f:
            return f.read()

    def test_tokens_from_files(self):
        admin_tok, stats_tok = "adm-file-" + "4f" * 12, "sts-file-" + "9c" * 12
        a, st = self.token_file("admin", admin_tok), self.token_file("stats", stats_tok)
        with Server(args=["--trusted-proxy", "127.0.0.1", "--admin-token-file", a, "--stats-token-file", st]) as srv:
            call = self.start_honest(srv, seconds=2.0)
            self.assertEqual(self.outside(srv, admin_tok), 200)
            self.assertEqual(self.outside(srv, admin_tok + "x"), 403)
            self.assertEqual(self.outside(srv, stats_tok), 403)          # the stats token never opens /admin/
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, "-H", "Authorization: Bearer " + stats_tok,
                                   srv.base + "/stats.json"])[0], 200)
            cmd = self.cmdline(srv)
            call.assert_clean(self)
            log = srv.stderr_text()
        self.assertNotIn(admin_tok.encode(), cmd)
        self.assertNotIn(stats_tok.encode(), cmd)
        self.assertNotIn("command line", log)
        self.assertNotIn(admin_tok, log)

    def test_environment_names(self):
        admin_tok = "adm-env-file-" + "12" * 10
        a = self.token_file("admin-env", admin_tok)
        with Server(args=["--trusted-proxy", "127.0.0.1"], env={"ADMIN_TOKEN_FILE": a}) as srv:
            self.assertEqual(self.outside(srv, admin_tok), 200)
            self.assertEqual(self.outside(srv, None), 403)
        with Server(args=["--trusted-proxy", "127.0.0.1"], env={"ADMIN_TOKEN": admin_tok}) as srv:
            self.assertEqual(self.outside(srv, admin_tok), 200)
            self.assertNotIn("command line", srv.stderr_text())

    def test_flag_warns_and_is_blanked(self):
        admin_tok = "adm-flag-" + "7e" * 12
        with Server(args=["--trusted-proxy", "127.0.0.1", "--admin-token", admin_tok]) as srv:
            self.assertEqual(self.outside(srv, admin_tok), 200)   # it still works
            cmd = self.cmdline(srv)
            log = srv.stderr_text()
        self.assertNotIn(admin_tok.encode(), cmd)
        self.assertIn(b"--admin-token\0" + b"x" * len(admin_tok) + b"\0", cmd)
        self.assertIn("--admin-token was given on the command line, where every local user can read it", log)
        self.assertIn("use --admin-token-file FILE or ADMIN_TOKEN in the environment", log)
        self.assertNotIn(admin_tok, log)

    def test_bad_token_files_refuse_to_start(self):
        good = self.token_file("good", "tok-0123456789")
        empty = self.token_file("empty", "")
        spaced = self.token_file("spaced", "two words")
        cases = [
            (["--admin-token-file", empty], {}, "--admin-token-file: '%s' is empty" % empty),
            (["--stats-token-file", spaced], {},
             "--stats-token-file: a token is printable ASCII without spaces or control characters"),
            (["--admin-token-file", "/nonexistent/token"], {}, "--admin-token-file: cannot open '/nonexistent/token'"),
            # who may read or replace it: the Redis password file's rule
            (["--admin-token-file", self.token_file("world-readable", "tok-0123456789", 0o644)], {},
             "is readable by every user (mode 0644)"),
            (["--stats-token-file", self.token_file("group-writable", "tok-0123456789", 0o620)], {},
             "with mode 0620; needed:"),
            (["--admin-token", "tok-x-123456", "--admin-token-file", good], {},
             "--admin-token and --admin-token-file: give the token one way"),
            ([], {"ADMIN_TOKEN": "tok-y-123456", "ADMIN_TOKEN_FILE": good},
             "ADMIN_TOKEN and ADMIN_TOKEN_FILE: give the token one way"),
            (["--admin-token-file", good, "--stats-token-file", good], {}, "--admin-token: must differ from --stats-token"),
        ]
        for args, env, want in cases:
            with self.subTest(args=args, env=env):
                p = subprocess.run([Server().binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=clean_env(dict(env, VONAGE_SIGNATURE_SECRET="s" * 40)), timeout=10)
                self.assertEqual(p.returncode, 2)
                lines = p.stderr.decode().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(want, lines[0])


class AutoBlock(HandshakeCase):
    """N refusals a client earned within T seconds block it for B seconds."""

    ARGS = ["--trusted-proxy", "127.0.0.1", "--block-after", "5", "--block-window", "10",
            "--block-seconds", "2", "--log-format", "json"]

    def bad(self, srv, xff, n, token="bad"):
        return [upgrade(srv, "127.0.0.1", token=token, headers=[("X-Forwarded-For", xff)])[0] for _ in range(n)]

    def test_blocked_then_released(self):
        with Server(args=self.ARGS) as srv:
            call = self.start_honest(srv, seconds=4.0)
            self.assertEqual(self.bad(srv, OUTSIDE, 5), [401] * 5)
            # even with a good token now, and for every route
            self.assertEqual(upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", OUTSIDE)])[0], 403)
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, srv.base + "/webhooks/answer"])[0], 403)
            # another client behind the same proxy is not
            self.assertEqual(upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", "203.0.113.51")])[0], 101)
            d = stats(srv)
            self.assertEqual(d["admin"]["auto_blocks"], 1)
            blk = d["admin"]["blocks"]
            self.assertEqual([(b["cidr"], b["source"], b["by"]) for b in blk], [(OUTSIDE + "/32", "auto", "auto")])
            self.assertEqual(blk[0]["reason"], "5 refusals in 10 s, last malformed")
            self.assertEqual(d["rejected"]["blocked"], 2)
            self.assertEqual(d["admin"]["recent"][0]["action"], "auto_block")
            lines = [json.loads(l) for l in srv.stderr_text().splitlines() if '"auto_block"' in l]
            self.assertEqual([(l["fields"]["remote"], l["fields"]["reason"]) for l in lines], [(OUTSIDE, "malformed")])
            time.sleep(2.5)
            self.assertEqual(upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", OUTSIDE)])[0], 101)
            call.assert_clean(self)

    def test_what_does_not_block(self):
        args = self.ARGS + ["--limit-exempt", "198.51.100.0/24"]
        with Server(args=args) as srv:
            # expired tokens are not strikes (a clock problem would block Vonage)
            old = make_jwt(srv.secret, claims={"iat": int(time.time()) - 3600})
            self.assertEqual(self.bad(srv, OUTSIDE, 8, token=old), [401] * 8)
            # exempt ranges and loopback never
            self.assertEqual(self.bad(srv, "198.51.100.7", 8), [401] * 8)
            self.assertEqual([upgrade(srv, "127.0.0.2", token="bad")[0] for _ in range(8)], [401] * 8)
            # an unusable X-Forwarded-For is "unknown", shared by many: never
            self.assertEqual(self.bad(srv, "not-an-address", 8), [401] * 8)
            self.assertEqual(stats(srv)["admin"]["auto_blocks"], 0)
        with Server(args=self.ARGS[:2] + ["--block-after", "0"]) as srv:
            self.assertEqual(self.bad(srv, OUTSIDE, 30), [401] * 30)
            self.assertEqual(stats(srv)["admin"]["blocks"], [])

    def test_mixed_refusals_add_up(self):
        """Strikes of different kinds count together: a probe that varies its
        attack is blocked as fast as one that repeats itself."""
        with Server(args=self.ARGS + ["--verify-webhooks"]) as srv:
            xff = ("X-Forwarded-For", OUTSIDE)
            self.assertEqual(upgrade(srv, "127.0.0.1", token="bad", headers=[xff])[0], 401)
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, srv.base + "/stats.json"])[0], 403)
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, srv.base + "/webhooks/answer"])[0], 401)
            self.assertEqual(upgrade(srv, "127.0.0.1", headers=[xff, ("Origin", "https://evil.example")])[0], 403)
            s = connect_from(srv, "127.0.0.1")
            s.sendall(b"GET /socket HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: %s\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: http\r\n\r\n" % OUTSIDE.encode())
            self.assertEqual(read_head(s)[0], 400)
            s.close()
            self.assertEqual(curl(["-H", "X-Forwarded-For: " + OUTSIDE, srv.base + "/healthz"])[0], 403)
            self.assertEqual(stats(srv)["admin"]["auto_blocks"], 1)


class Persistence(HandshakeCase):

    def test_sighup_and_restart(self):
        path = os.path.join(tmp_root(), "blocks-%d.json" % os.getpid())
        args = ["--block-file", path]
        with Server(args=args) as srv:
            self.assertEqual(admin(srv, "block", {"cidr": "127.0.0.2", "seconds": 3600, "reason": "kept"})[0], 200)
            self.assertEqual(admin(srv, "block", {"cidr": "127.0.0.3", "seconds": 1})[0], 200)
            srv.proc.send_signal(signal.SIGHUP)
            time.sleep(0.5)
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 403)
            deadline = time.monotonic() + 3
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            created = stats(srv)["admin"]["blocks"][0]["created"]
            self.assertEqual(srv.stop(), 0)
        time.sleep(1.2)   # the 1 s block is over by the restart
        with Server(args=args) as srv:
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 403)
            self.assertEqual(upgrade(srv, "127.0.0.3")[0], 101)
            blocks = stats(srv)["admin"]["blocks"]
            self.assertEqual([(b["cidr"], b["reason"], b["created"]) for b in blocks],
                             [("127.0.0.2/32", "kept", created)])
            self.assertIn("1 block(s) loaded from " + path, srv.stderr_text())
            admin(srv, "unblock", {"cidr": "127.0.0.2"})
            time.sleep(1.5)   # saved within a second
            with open(path) as f:
                self.assertEqual(json.load(f), {"blocks": []})
        # without the file nothing is kept
        with Server() as srv:
            self.assertEqual(admin(srv, "block", {"cidr": "127.0.0.2"})[0], 200)
        with Server() as srv:
            self.assertEqual(upgrade(srv, "127.0.0.2")[0], 101)

    def test_bad_block_file_refuses_to_start(self):
        path = os.path.join(tmp_root(), "bad-blocks.json")
        with open(path, "w") as f:
            f.write("{not json")
        srv = Server(args=["--block-file", path])
        with self.assertRaises(Exception):
            srv.start()
        # exit 2 (issue 19): a refused state file is the configuration's
        # problem, and the unit's RestartPreventExitStatus=2 does not loop on it
        self.assertEqual(srv.proc.returncode, 2)
        self.assertIn("cannot start: block file %s is not a block list" % path, srv.stderr_text())


NETNS_INNER = r'''
# run inside `unshare --net --map-root-user`: lo is ours alone
import json, subprocess, sys, time
sys.path.insert(0, HERE_DIR)
from harness import Server, curl, make_jwt, stats
from attack import connect_from, read_head, upgrade_request
from test_admin import admin
ADDR = "198.51.100.7"
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "addr", "add", ADDR + "/32", "dev", "lo"], check=True)
out = {}

def attempt(srv, token):
    s = connect_from(srv, ADDR)
    s.sendall(upgrade_request(token=token))
    st = read_head(s, 5)[0]
    s.close()
    return st

with Server(args=["--listen", "0.0.0.0", "--block-after", "3", "--block-seconds", "60"]) as srv:
    out["bad"] = [attempt(srv, "bad") for _ in range(3)]
    # blocked now: closed at accept, before a byte is read
    out["after"] = attempt(srv, make_jwt(srv.secret))
    out["rejected"] = stats(srv)["rejected"]["blocked"]
    out["unblock"] = admin(srv, "unblock", {"cidr": ADDR})[0]
    out["again"] = attempt(srv, make_jwt(srv.secret))
    out["manual"] = admin(srv, "block", {"cidr": "198.51.100.0/24"})[0]
    out["manual_after"] = attempt(srv, make_jwt(srv.secret))
    out["log"] = "refused connection from 198.51.100.7: blocked (closed at accept)" in srv.stderr_text()
print(json.dumps(out))
'''


@unittest.skipUnless(shutil.which("unshare") and shutil.which("ip"), "needs unshare and ip")
class BlockedAtAccept(unittest.TestCase):
    """A real non-loopback client: blocked addresses are closed at accept."""

    def test_closed_at_accept(self):
        code = "HERE_DIR = %r\n" % HERE + NETNS_INNER
        p = subprocess.run(["unshare", "--net", "--map-root-user", sys.executable, "-c", code],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, env=clean_env(), cwd=HERE)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        self.assertEqual(out, {"bad": [401, 401, 401], "after": 0, "rejected": 1, "unblock": 200, "again": 101,
                               "manual": 200, "manual_after": 0, "log": True})
