"""
test_fail2ban.py -- scripts/fail2ban/ against log lines the real server
wrote: the server runs with --log-format json, is attacked with every kind
of refusal there is (and a few it must not hold against anyone), serves
honest calls and webhooks meanwhile, and then Debian's fail2ban-regex
reads its log with our filter. Demanded: every refusal line that names a
strike reason matches (with the client's address), and nothing else does:
not an accepted call, not a webhook, not "server busy", not an expired
token, not an idle call. The jail file is checked by fail2ban-client -t.
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from attack import OP_BIN, OP_CLOSE, connect_from, encode_frame, read_head, upgrade, upgrade_request
from harness import REPO, Server, curl, make_jwt, required, stats, tmp_root
from honest import HonestCall
from test_attack_exposure import EVENT, req, sha256_hex

FILTER = os.path.join(REPO, "scripts", "fail2ban", "filter.d", "caller-echo.conf")
JAIL = os.path.join(REPO, "scripts", "fail2ban", "jail.d", "caller-echo.conf")
F2B_REGEX = shutil.which("fail2ban-regex")
F2B_CLIENT = shutil.which("fail2ban-client")

# the reasons the filter must ban on: src/refusal.cpp refusal_is_strike()
STRIKES = {"missing", "not_bearer", "malformed", "bad_alg", "bad_signature", "no_iat", "wrong_application",
           "bad_issuer", "replay", "missing_jti", "webhook_auth", "payload_hash", "missing_payload_hash",
           "bad_path", "origin", "addr_rate", "addr_conns", "msg_rate", "stats_access", "admin_access",
           "body_timeout", "subprotocol", "transfer_encoding", "bad_close"}
APP = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def pace():
    time.sleep(0.12)   # under the log's 10 lines a second per kind: every refusal is written


@required(F2B_REGEX, "fail2ban missing: scripts/deps.sh test installs it")
class Fail2banFilter(unittest.TestCase):

    def attack(self, srv):
        """One refusal of every kind, each from its own forwarded address."""
        n = [0]

        def xff():
            n[0] += 1
            return [("X-Forwarded-For", "203.0.113.%d" % n[0] if n[0] % 3 else "2001:db8::%x" % n[0])]

        s = srv.secret
        ws_tokens = {
            "missing": None, "not_bearer": None, "malformed": "not.a.jwt",
            "bad_alg": make_jwt(s, alg="none"), "bad_signature": make_jwt(b"x" * 40),
            "no_iat": make_jwt(s, claims={"iat": None}), "wrong_application": make_jwt(s, claims={"application_id": "x"}),
            "bad_issuer": make_jwt(s, claims={"iss": "x"}), "missing_jti": make_jwt(s, claims={"jti": None}),
            "iat_too_old": make_jwt(s, claims={"iat": int(time.time()) - 3600}),   # not a strike
        }
        for reason, tok in ws_tokens.items():
            hdrs = xff() + ([("Authorization", "Basic abc")] if reason == "not_bearer" else [])
            status = upgrade(srv, "127.0.0.1", token=tok, headers=hdrs)[0]
            self.assertEqual(status, 401, reason)
            pace()
        used = make_jwt(s)
        h = xff()
        self.assertEqual(upgrade(srv, "127.0.0.1", token=used, headers=h)[2].close(), None)
        self.assertEqual(upgrade(srv, "127.0.0.1", token=used, headers=h)[0], 401)          # replay
        pace()
        self.assertEqual(upgrade(srv, "127.0.0.1", headers=xff() + [("Origin", "https://evil.example")])[0], 403)
        pace()
        self.assertEqual(upgrade(srv, "127.0.0.1", headers=xff() + [("Sec-WebSocket-Protocol", "http")])[0], 400)
        pace()
        self.assertEqual(upgrade(srv, "127.0.0.1", headers=xff() + [("Transfer-Encoding", "chunked")])[0], 400)
        pace()
        sk = connect_from(srv, "127.0.0.1")
        sk.sendall(upgrade_request(path="/nope", token=make_jwt(s), headers=xff()))
        self.assertEqual(read_head(sk)[0], 404)                                            # bad_path
        sk.close()
        pace()
        # addr_rate: a burst of 3 per address (--handshake-burst 3)
        h = xff()
        got = [upgrade(srv, "127.0.0.1", headers=h)[0] for _ in range(4)]
        self.assertEqual(got[-1], 429)
        pace()
        # webhooks (--verify-webhooks)
        self.assertEqual(req(srv, "/webhooks/events", "POST", EVENT, xff())[0], 401)       # webhook_auth
        pace()
        self.assertEqual(req(srv, "/webhooks/events", "POST", EVENT,
                             xff() + [("Authorization", "Bearer " + make_jwt(s, claims={"payload_hash": "00"}))])[0], 401)
        pace()
        self.assertEqual(req(srv, "/webhooks/events", "POST", EVENT,
                             xff() + [("Authorization", "Bearer " + make_jwt(s))])[0], 401)  # missing_payload_hash
        pace()
        self.assertEqual(req(srv, "/stats.json", headers=xff())[0], 403)                    # stats_access
        pace()
        self.assertEqual(req(srv, "/admin/blocks", headers=xff())[0], 403)                  # admin_access
        pace()
        sk = connect_from(srv, "127.0.0.1")
        sk.sendall(b"POST /webhooks/answer HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.200\r\n"
                   b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertEqual(read_head(sk)[0], 400)                                            # transfer_encoding
        sk.close()
        pace()
        sk = connect_from(srv, "127.0.0.1")
        tok = make_jwt(s, claims={"payload_hash": "0" * 64})
        sk.sendall(b"POST /webhooks/events HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.201\r\n"
                   b"Authorization: Bearer %s\r\nContent-Length: 50\r\n\r\n{" % tok.encode())
        self.assertEqual(read_head(sk, 5)[0], 408)                                         # body_timeout
        sk.close()
        # addr_conns at accept, from a real (untrusted) peer: --max-conns-per-addr 2
        held = [connect_from(srv, "127.0.0.5") for _ in range(3)]
        time.sleep(0.3)
        for c in held:
            c.close()
        pace()
        # in a call: a frame flood (1008) and an invalid close code (1002)
        status, _, ws = upgrade(srv, "127.0.0.1", headers=xff())
        ws.send_raw(b"".join(encode_frame(OP_BIN, b"\0\0") for _ in range(100)))
        self.assertEqual(ws.wait_close(), 1008)
        ws.s.close()
        pace()
        status, _, ws = upgrade(srv, "127.0.0.1", headers=xff())
        ws.send(OP_CLOSE, struct.pack("!H", 5000))
        self.assertEqual(ws.wait_close(), 1002)
        ws.s.close()
        pace()
        # not strikes: idle (--idle-timeout 1), and capacity is exercised in
        # test_attack_handshake; an accepted answer webhook and event
        status, _, ws = upgrade(srv, "127.0.0.1", headers=xff())
        self.assertEqual(ws.wait_close(4), 1001)
        ws.s.close()
        tok = make_jwt(s, claims={"payload_hash": sha256_hex(EVENT)})
        self.assertEqual(req(srv, "/webhooks/events", "POST", EVENT, xff() + [("Authorization", "Bearer " + tok)])[0], 204)
        self.assertEqual(req(srv, "/webhooks/answer?uuid=u&from=1&to=2",
                             headers=xff() + [("Authorization", "Bearer " + make_jwt(s))])[0], 200)

    def test_filter_matches_refusals_only(self):
        args = ["--log-format", "json", "--trusted-proxy", "127.0.0.1", "--verify-webhooks", "--application-id", APP,
                "--handshake-burst", "3", "--max-conns-per-addr", "2", "--max-msg-rate", "60",
                "--idle-timeout", "1", "--body-timeout", "1", "--block-after", "0"]
        with Server(args=args) as srv:
            call = HonestCall(srv, 12.0).start()
            self.attack(srv)
            call.assert_clean(self)
            rejected = stats(srv)["rejected"]
            log = srv.stderr_text()
        lines = log.splitlines()
        for l in lines:
            json.loads(l)   # every line is JSON
        path = os.path.join(tmp_root(), "f2b-%d.log" % os.getpid())
        with open(path, "w") as f:
            f.write(log)

        refusals = [l for l in lines if json.loads(l)["event"] in ("handshake_refused", "call_limit")
                    and "reason" in json.loads(l)["fields"]]
        want = [l for l in refusals if json.loads(l)["fields"]["reason"] in STRIKES]
        # every strike reason was exercised and written
        self.assertEqual({json.loads(l)["fields"]["reason"] for l in want}, STRIKES)
        self.assertEqual(len(want), sum(rejected[r] for r in STRIKES), "lines suppressed: pace() too fast")
        self.assertTrue(any(json.loads(l)["fields"]["reason"] == "iat_too_old" for l in refusals))
        self.assertTrue(any(json.loads(l)["fields"]["reason"] == "idle" for l in refusals))
        self.assertTrue(any(json.loads(l)["event"] == "call_open" for l in lines))

        p = subprocess.run([F2B_REGEX, "-o", "msg", path, FILTER], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        matched = [l for l in p.stdout.decode().splitlines() if l.startswith("{")]
        self.assertEqual(sorted(matched), sorted(want))
        # and the address fail2ban bans is the client's, not the proxy's
        p = subprocess.run([F2B_REGEX, "-o", "ip", path, FILTER], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        ips = p.stdout.decode().split()
        self.assertEqual(sorted(ips), sorted(json.loads(l)["fields"]["remote"] for l in want))
        self.assertNotIn("127.0.0.1", ips)
        self.assertIn("127.0.0.5", ips)   # addr_conns: the peer itself (not behind the proxy)
        self.assertTrue(any(":" in ip for ip in ips))

    @required(F2B_CLIENT, "fail2ban missing: scripts/deps.sh test installs it")
    def test_jail_config(self):
        """The jail and filter load in fail2ban's own configuration reader."""
        d = tempfile.mkdtemp(prefix="f2b-conf-", dir=tmp_root())
        conf = os.path.join(d, "fail2ban")
        shutil.copytree("/etc/fail2ban", conf)
        shutil.copy(FILTER, os.path.join(conf, "filter.d"))
        shutil.copy(JAIL, os.path.join(conf, "jail.d"))
        # only our jail (Debian's defaults enable sshd)
        with open(os.path.join(conf, "jail.d", "zz-only-caller-echo.local"), "w") as f:
            f.write("[sshd]\nenabled = false\n")
        p = subprocess.run([F2B_CLIENT, "-c", conf, "-d"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out[-3000:])
        self.assertIn("'caller-echo'", out)
        self.assertIn("'maxretry', 10", out)
