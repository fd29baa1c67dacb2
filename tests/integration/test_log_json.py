"""
test_log_json.py -- --log-format json / LOG_FORMAT=json (behaviour.md "Logs").

A server in JSON mode at debug level (so libwebsockets' own lines come
through too) lives through calls, DTMF, a text message that is not JSON,
refused handshakes, webhooks with hostile query bytes, a 1009 close, a
dropped connection and a SIGTERM with a call open. Then EVERY line it wrote
to stderr must parse with json.loads as one object with exactly time,
level, event and fields.msg, and the expected events must be there.
"""
import asyncio
import json
import re
import signal
import time
import unittest

from harness import Server, bearer, curl, make_jwt, stats
from livecall import PacedCall, _connect, connected_msg, oversized_call, run_call, vanishing_call

TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
EVENT = re.compile(r"^[a-z0-9_]+$")


def upgrade(srv, path="/socket", headers=()):
    args = [srv.base + path, "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
            "-H", "Sec-WebSocket-Version: 13", "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
    for h in headers:
        args += ["-H", h]
    return curl(args)[0]


async def _not_json(srv):
    ws = await _connect(srv)
    await ws.send(connected_msg("log-3", "447700900003"))
    await ws.send("this is {not json")
    await ws.send(json.dumps({"event": "websocket:\u0001\u00e9\"odd"}))
    await ws.send(b"\x01" * 640)
    await asyncio.wait_for(ws.recv(), 5)
    await ws.close(1000)


def parse_all(testcase, text):
    """json.loads every line; returns the objects. Fails on the first bad line."""
    lines = text.split("\n")
    testcase.assertEqual(lines[-1], "", "output ends with a newline")
    out = []
    for n, line in enumerate(lines[:-1]):
        try:
            obj = json.loads(line)
        except ValueError as e:
            testcase.fail("line %d is not JSON (%s): %r" % (n + 1, e, line))
        testcase.assertIsInstance(obj, dict, line)
        testcase.assertEqual(list(obj), ["time", "level", "event", "fields"], line)
        testcase.assertRegex(obj["time"], TIME)
        testcase.assertIn(obj["level"], ("error", "warn", "info", "debug"))
        testcase.assertRegex(obj["event"], EVENT)
        testcase.assertIsInstance(obj["fields"], dict)
        testcase.assertEqual(list(obj["fields"])[0], "msg", line)
        testcase.assertIsInstance(obj["fields"]["msg"], str, line)
        out.append(obj)
    return out


class LogJsonTest(unittest.TestCase):
    def test_every_line_of_a_busy_run_is_json(self):
        tokens = []
        with Server(args=["--rate", "16000", "--log-format", "json", "--log-level", "debug"]) as srv:
            run_call(srv, 25, uuid="log-1", frm="447700900001", dtmf="7#")
            asyncio.run(asyncio.wait_for(_not_json(srv), 20))
            self.assertEqual(oversized_call(srv), 1009)
            vanishing_call(srv)
            self.assertEqual(upgrade(srv), 401)
            tok = make_jwt(b"wrong secret")
            tokens.append(tok)
            self.assertEqual(upgrade(srv, headers=["Authorization: Bearer " + tok]), 401)
            self.assertEqual(upgrade(srv, headers=["Origin: https://evil.example"]), 403)
            self.assertEqual(upgrade(srv, path="/x"), 404)
            # hostile bytes in what gets logged: quotes, controls, invalid UTF-8
            s, _, _ = curl([srv.base + "/webhooks/answer?uuid=a%22b%5C%01%FF%C0&from=%E2%82%AC&to=1"])
            self.assertEqual(s, 200)
            s, _, _ = curl([srv.base + "/webhooks/events", "-H", "Content-Type: application/json",
                            "--data-binary", '{"status":"answered\\u0000\\"x","uuid":"log-1"}'])
            self.assertEqual(s, 204)
            s, _, _ = curl([srv.base + "/webhooks/events", "-H", "Content-Type: application/json",
                            "--data-binary", "{broken"])
            self.assertEqual(s, 400)
            call = PacedCall(srv, "log-4", "447700900004")
            call.start()
            self.assertTrue(call.ready.wait(5))
            deadline = time.monotonic() + 5
            while stats(srv)["totals"]["connections_open"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            tokens.append(make_jwt(srv.secret))   # never used, but the same shape
            self.assertEqual(srv.stop(signal.SIGTERM), 0)
            try:
                call.stop()
            except Exception:
                pass   # the server went away under it: expected
            with open(srv.stderr_path, "rb") as f:
                raw = f.read()
        text = raw.decode("utf-8")   # strict: a stray invalid byte fails here

        objs = parse_all(self, text)
        events = {o["event"] for o in objs}
        for want in ("listening", "call_open", "call_connected", "dtmf", "call_closing",
                     "call_closed", "peer_close", "handshake_refused", "answer", "event_webhook",
                     "bad_input", "shutdown", "stopped", "lws"):
            self.assertIn(want, events)
        by = lambda ev: [o["fields"]["msg"] for o in objs if o["event"] == ev]
        self.assertTrue(any("uuid log-1, audio/l16;rate=16000, from 447700900001" in m for m in by("call_connected")))
        self.assertTrue(any("DTMF #" in m for m in by("dtmf")))
        self.assertTrue(any("closing 1001" in m for m in by("call_closing")))
        self.assertTrue(any("closing 1009" in m for m in by("call_closing")))
        self.assertTrue(all(o["level"] == "warn" for o in objs if o["event"] == "handshake_refused"))
        self.assertTrue(any("origin" in m for m in by("handshake_refused")))
        self.assertTrue(any(o["level"] == "debug" for o in objs))
        # structured fields next to msg, for the lines people search by call
        fields = lambda ev: [o["fields"] for o in objs if o["event"] == ev]
        conn = [f for f in fields("call_connected") if f.get("uuid") == "log-1"]
        self.assertEqual(len(conn), 1)
        self.assertEqual((conn[0]["from"], conn[0]["content_type"]), ("447700900001", "audio/l16;rate=16000"))
        self.assertIsInstance(conn[0]["call"], int)
        closed = [f for f in fields("call_closed") if f.get("uuid") == "log-1"]
        self.assertEqual((closed[0]["frames_in"], closed[0]["frames_out"], closed[0]["frames_dropped"]),
                         (25, 25, 0))
        self.assertEqual(closed[0]["call"], conn[0]["call"])
        self.assertIn(1009, [f["code"] for f in fields("call_closing")])
        self.assertIn(1000, [f["code"] for f in fields("peer_close")])
        self.assertEqual([f["digit"] for f in fields("dtmf") if f["call"] == conn[0]["call"]], ["7", "#"])
        self.assertTrue(all(set(f) == {"msg", "status", "uuid"} for f in fields("event_webhook")))
        for tok in tokens:
            self.assertNotIn(tok.split(".")[2], text)   # never a token (signature part)
        # one object per line: nothing spans lines, nothing is glued together
        self.assertEqual(len(objs), text.count("\n"))

    def test_env_selects_json_and_plain_stays_default(self):
        with Server(env={"LOG_FORMAT": "json"}) as srv:
            run_call(srv, 3, uuid="env-1")
            srv.stop()
            with open(srv.stderr_path, "rb") as f:
                objs = parse_all(self, f.read().decode("utf-8"))
        self.assertEqual(objs[0]["event"], "listening")
        self.assertEqual(objs[-1]["event"], "stopped")
        with Server() as srv:
            run_call(srv, 3, uuid="plain-1")
            srv.stop()
            lines = srv.stderr_text().splitlines()
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (error|warn |info |debug) ")

    def test_bad_value_exits_2(self):
        for args, env, what in ((["--log-format", "yaml"], {}, "--log-format"),
                                ([], {"LOG_FORMAT": "JSON"}, "LOG_FORMAT")):
            srv = Server(args=args, env=env)
            with self.assertRaises(Exception):
                srv.start()
            self.assertEqual(srv.proc.returncode, 2)
            self.assertIn(what, srv.stderr_text())


if __name__ == "__main__":
    unittest.main()
