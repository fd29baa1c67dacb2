"""
test_metrics.py -- GET /metrics against the real server (behaviour.md "/metrics").

A server gets a known history: calls with exact frame counts, closes by
either side (1000 from us as the peer, 1009 from the server, a dropped TCP
connection = 1006), refused handshakes of three kinds and event webhooks of
known and unknown statuses. Then Debian's promtool must accept the real
output (`promtool check metrics`: syntax and naming lint), and the counters
must have exactly the values that history implies and agree with /stats.json.
"""
import re
import subprocess
import time
import unittest

from harness import Server, bearer, curl, make_jwt, stats
from livecall import FRAME, oversized_call, run_call, vanishing_call

PROMTOOL = "/usr/bin/promtool"   # Debian prometheus, installed by scripts/deps.sh test


def parse_metrics(text):
    """{'name{labels}': value} for every sample line; labels kept verbatim."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out


def ws_refused(srv, path="/socket", headers=()):
    args = [srv.base + path, "-H", "Connection: Upgrade",
            "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
            "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    for h in headers:
        args += ["-H", h]
    status, _, _ = curl(args)
    return status


def wait_for(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = Server(args=["--rate", "16000"])
        cls.srv.start()
        srv = cls.srv
        run_call(srv, 30, uuid="m-1", close_code=1000, dtmf="5")
        run_call(srv, 20, uuid="m-2", close_code=1000)
        cls.code_big = oversized_call(srv)          # server closes 1009
        vanishing_call(srv)                          # no close frame: 1006
        for _ in range(3):
            cls.assert_status(ws_refused(srv), 401)                       # missing
        for _ in range(2):
            cls.assert_status(ws_refused(srv, headers=[
                "Authorization: Bearer " + make_jwt(b"not-the-secret")]), 401)   # bad_signature
        cls.assert_status(ws_refused(srv, path="/nope", headers=[
            "%s: %s" % bearer(srv.secret)]), 404)                            # bad_path
        for status in ("answered", "answered", "completed", "<weird>"):
            s, _, _ = curl([srv.base + "/webhooks/events", "-H", "Content-Type: application/json",
                            "--data-binary", '{"status":"%s","uuid":"m-1"}' % status])
            cls.assert_status(s, 204)
        # every connection's close has been processed once none is open
        if not wait_for(lambda: stats(srv)["totals"]["connections_open"] == 0):
            raise AssertionError("calls still open: %s" % stats(srv))
        status, cls.headers, body = curl([srv.base + "/metrics"])
        cls.assert_status(status, 200)
        cls.text = body.decode()
        cls.m = parse_metrics(cls.text)
        cls.json = stats(srv)

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()

    @staticmethod
    def assert_status(got, want):
        if got != want:
            raise AssertionError("status %s, want %s" % (got, want))

    def test_promtool_accepts_the_real_output(self):
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=self.text.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        # promtool prints lint findings and exits 1 if there are any
        self.assertEqual(p.returncode, 0, p.stdout.decode())
        self.assertEqual(p.stdout.decode().strip(), "")

    def test_promtool_rejects_a_broken_exposition(self):
        # the check above can fail: a counter without _total and a bad line
        bad = self.text + "# TYPE caller_echo_bogus counter\ncaller_echo_bogus 1\nnot a metric\n"
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=bad.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertNotEqual(p.returncode, 0)

    def test_content_type_and_help_type(self):
        self.assertEqual(self.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        families = {k.split("{")[0] for k in self.m}
        # a summary's samples are <name>_sum and <name>_count under one HELP/TYPE,
        # a histogram's <name>_bucket{le=...} too
        def family(f):
            base = f.rsplit("_", 1)[0]
            if f.endswith(("_sum", "_count")) and re.search(r"# TYPE %s (summary|histogram)\n" % base, self.text):
                return base
            if f.endswith("_bucket") and "# TYPE %s histogram\n" % base in self.text:
                return base
            return f
        families = {family(f) for f in families}
        for f in families:
            self.assertTrue(f.startswith("caller_echo_"), f)
            self.assertIn("# HELP %s " % f, self.text)
            self.assertIn("# TYPE %s " % f, self.text)

    def test_exact_counters(self):
        m = self.m
        self.assertEqual(self.code_big, 1009)
        self.assertEqual(m["caller_echo_calls_open"], 0)
        self.assertEqual(m["caller_echo_calls_total"], 4)
        # 30 + 20 echoed frames; the oversized message was never a frame
        self.assertEqual(m["caller_echo_frames_received_total"], 50)
        self.assertEqual(m["caller_echo_frames_sent_total"], 50)
        self.assertEqual(m["caller_echo_sent_bytes_total"], 50 * FRAME)
        self.assertEqual(m["caller_echo_frames_dropped_total"], 0)
        self.assertEqual(m['caller_echo_handshakes_refused_total{reason="missing"}'], 3)
        self.assertEqual(m['caller_echo_handshakes_refused_total{reason="bad_signature"}'], 2)
        self.assertEqual(m['caller_echo_handshakes_refused_total{reason="bad_path"}'], 1)
        self.assertEqual(m['caller_echo_handshakes_refused_total{reason="origin"}'], 0)
        self.assertEqual(m['caller_echo_events_total{status="answered"}'], 2)
        self.assertEqual(m['caller_echo_events_total{status="completed"}'], 1)
        self.assertEqual(m['caller_echo_events_total{status="other"}'], 1)
        self.assertEqual(m["caller_echo_events_received_total"], 4)
        self.assertEqual(m['caller_echo_websocket_closes_total{code="1000",side="peer"}'], 2)
        self.assertEqual(m['caller_echo_websocket_closes_total{code="1009",side="server"}'], 1)
        self.assertEqual(m['caller_echo_websocket_closes_total{code="1006",side="peer"}'], 1)
        closes = sum(v for k, v in m.items() if k.startswith("caller_echo_websocket_closes_total"))
        self.assertEqual(closes, 4)   # one per call, never two
        self.assertGreaterEqual(m["caller_echo_uptime_seconds"], 0)
        self.assertEqual(m['caller_echo_build_info{version="%s",worker=""}' % self.json["version"]], 1)

    def test_agrees_with_stats_json(self):
        t, m = self.json["totals"], self.m
        self.assertEqual(m["caller_echo_frames_received_total"], t["packets_received"])
        self.assertEqual(m["caller_echo_received_bytes_total"], t["bytes_received"])
        self.assertEqual(m["caller_echo_sent_bytes_total"], t["bytes_sent"])
        self.assertEqual(m["caller_echo_calls_total"], t["connections_total"])
        for reason, n in self.json["rejected"].items():
            self.assertEqual(m['caller_echo_handshakes_refused_total{reason="%s"}' % reason], n, reason)
        for status, n in self.json["events_by_status"].items():
            self.assertEqual(m['caller_echo_events_total{status="%s"}' % status], n, status)
        for side, codes in self.json["closes"].items():
            for code, n in codes.items():
                self.assertEqual(m['caller_echo_websocket_closes_total{code="%s",side="%s"}'
                                   % (code, side)], n)
        # the unknown status never became a label
        self.assertNotIn("weird", self.text)

    def test_methods(self):
        status, headers, _ = curl(["-X", "POST", self.srv.base + "/metrics", "--data", "x"])
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("allow"), "GET")


if __name__ == "__main__":
    unittest.main()


class MetricsAccessTest(unittest.TestCase):
    """/metrics has /stats's access rule: loopback, or the --stats-token bearer."""

    def test_remote_client_needs_the_stats_token(self):
        token = "metrics-token-0123456789abcdef"
        with Server(args=["--trusted-proxy", "127.0.0.1/32", "--stats-token", token,
                          "--worker-id", "w-9"]) as srv:
            remote = ["-H", "X-Forwarded-For: 203.0.113.5"]
            for path in ("/metrics", "/stats", "/stats.json"):
                status, _, body = curl(remote + [srv.base + path])
                self.assertEqual((path, status, body), (path, 403, b"forbidden\n"))
                status, _, _ = curl(remote + ["-H", "Authorization: Bearer wrong", srv.base + path])
                self.assertEqual(status, 403, path)
                status, _, _ = curl(remote + ["-H", "Authorization: Bearer " + token, srv.base + path])
                self.assertEqual(status, 200, path)
            status, _, body = curl([srv.base + "/metrics"])   # loopback: no token needed
            self.assertEqual(status, 200)
            m = parse_metrics(body.decode())
            self.assertEqual(m['caller_echo_handshakes_refused_total{reason="stats_access"}'], 6)
            # several workers on one port: each scrape says which one answered
            self.assertEqual(m['caller_echo_build_info{version="%s",worker="w-9"}' % stats(srv)["version"]], 1)
