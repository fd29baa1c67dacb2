"""
test_attack_calls.py -- attacks from inside an accepted call (issue 19,
finding 8): a caller presses keys, switches apps and sends events as fast as
--max-msg-rate lets it, and every one of those wrote a log line (a refused
app switch at warn). Now each call has its own log budget (src/voice_app.h
voice_log_ok: 10 lines per 10 s); what it leaves out is counted per call
(call_closed `log_suppressed`, the /stats.json call row) and for the process
(/stats.json totals.log_suppressed, /metrics
caller_echo_call_log_lines_suppressed_total).

The attackers are Python websockets clients on 127.0.0.2..4, each pressing
keys 200 times a second; the honest call (caller-sim from 127.0.0.1) presses
four keys of its own meanwhile (--dtmf, 300 ms apart), and must lose neither
a frame nor a log line.
"""
import asyncio
import json
import time
import unittest

import websockets

from harness import Server, bearer, stats
from honest import HonestCall
from test_apps import metric
from test_ws import connected_msg, run

BURST, WINDOW_S = 10, 10          # src/voice_app.h VOICE_LOG_BURST, VOICE_LOG_WINDOW_S
FLOODERS, PRESSES, RATE = 3, 400, 200.0


def dtmf(d):
    return json.dumps({"event": "websocket:dtmf", "digit": d, "duration": 50})


def flood_message(i, uuid):
    """The i-th message of a flood and the log lines it asks for (before any budget):
    key 3 is a switch to parrot, refused under --app-memory-max 0 (a dtmf line and a
    warn line); key 5 a plain digit; an unknown event; websocket:connected again."""
    kind = i % 4
    if kind == 0:
        return dtmf("3"), 2
    if kind == 1:
        return dtmf("5"), 1
    if kind == 2:
        return json.dumps({"event": "websocket:made-up", "n": i}), 1
    return connected_msg(uuid), 1


async def flooder(srv, src, uuid, presses=PRESSES, rate=RATE):
    """One call from src pressing keys `rate` times a second; returns (lines asked, '3's, close code)."""
    ws = await websockets.connect(srv.ws_base + "/socket", extra_headers=[bearer(srv.secret)],
                                  ping_interval=None, open_timeout=5, close_timeout=2,
                                  local_addr=(src, 0), compression=None)
    await ws.send(connected_msg(uuid))
    asked, threes = 1, 0           # the first websocket:connected is a line too
    t0 = time.monotonic()
    for i in range(presses):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        msg, lines = flood_message(i, uuid)
        threes += msg == dtmf("3")
        asked += lines
        await ws.send(msg)
    # one binary frame, echoed: every message before it has been handled
    await ws.send(b"\x00\x01" * 480)
    while not isinstance(await asyncio.wait_for(ws.recv(), 5), bytes):
        pass
    return ws, asked, threes


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def call_lines(objs, call_id):
    """The budgeted lines about one call: dtmf, call_connected, refused switches, ignored events."""
    mine = []
    for o in objs:
        f = o["fields"]
        if o["event"] in ("dtmf", "call_connected") and f.get("call") == call_id:
            mine.append(o)
        elif o["event"] == "log" and f["msg"].startswith("call %d: " % call_id) and (
                "--app-memory-max has" in f["msg"] or "ignoring event" in f["msg"]):
            mine.append(o)
    return mine


class CallLogBudget(unittest.TestCase):

    def test_key_floods_keep_the_log_bounded_and_counted(self):
        with Server(args=["--log-format", "json", "--app-memory-max", "0"]) as srv:
            honest = HonestCall(srv, seconds=4.0, extra=["--dtmf", "5#5#"]).start()
            time.sleep(0.3)

            async def attack():
                got = await asyncio.gather(*[flooder(srv, "127.0.0.%d" % (2 + k), "flood-%d" % k)
                                             for k in range(FLOODERS)])
                rows = {c["uuid"]: c for c in stats(srv)["connections"] if c["uuid"].startswith("flood-")}
                for ws, _, _ in got:
                    await ws.close()
                return [(a, t) for _, a, t in got], rows

            asked, rows = run(attack(), timeout=60)
            honest.assert_clean(self)
            deadline = time.monotonic() + 5
            while stats(srv)["totals"]["connections_open"] and time.monotonic() < deadline:
                time.sleep(0.05)
            after = stats(srv)
            suppressed_metric = metric(srv, "caller_echo_call_log_lines_suppressed_total")
            refused_metric = metric(srv, "caller_echo_apps_refused_total")
            objs = json_lines(srv.stderr_text())

        closed = {o["fields"]["uuid"]: o["fields"] for o in objs if o["event"] == "call_closed"}
        total_lost = 0
        for k in range(FLOODERS):
            uuid = "flood-%d" % k
            want, _ = asked[k]
            row, end = rows[uuid], closed[uuid]
            written = call_lines(objs, row["id"])
            with self.subTest(call=uuid):
                # bounded: one burst per window, and the flood took under two windows
                self.assertLessEqual(len(written), 2 * BURST)
                self.assertGreaterEqual(len(written), BURST)
                # exact: what was written plus what was counted is what was asked for
                self.assertEqual(len(written) + end["log_suppressed"], want)
                # the live row already had it (nothing budgeted happens after the flood)
                self.assertEqual(row["log_suppressed"], end["log_suppressed"])
                summaries = [o["fields"]["suppressed"] for o in objs
                             if o["event"] == "call_log_suppressed" and o["fields"]["call"] == row["id"]]
                self.assertLessEqual(sum(summaries), end["log_suppressed"])
                self.assertEqual(row["dtmf_count"], 2 * (PRESSES // 4))   # every key press still counted
                self.assertEqual(row["app_refused"], PRESSES // 4)
                self.assertEqual(row["app"], "echo")
            total_lost += end["log_suppressed"]
        # the process's totals are the sum of the calls' counts, on both views
        self.assertEqual(after["totals"]["log_suppressed"], total_lost)
        self.assertEqual(suppressed_metric, total_lost)
        self.assertEqual(refused_metric, FLOODERS * (PRESSES // 4))
        # the whole log stays small: 3 x ~500 lines asked for
        self.assertLess(len(objs), 150, "%d log lines" % len(objs))
        # the honest call pressed four keys and every one of them was logged
        honest_id = [o["fields"]["call"] for o in objs
                     if o["event"] == "call_open" and o["fields"]["remote"] == "127.0.0.1"]
        self.assertEqual(len(honest_id), 1)
        digits = [o["fields"]["digit"] for o in objs
                  if o["event"] == "dtmf" and o["fields"]["call"] == honest_id[0]]
        self.assertEqual(digits, ["5", "#", "5", "#"])
        honest_end = [o["fields"] for o in objs if o["event"] == "call_closed"
                      and o["fields"]["call"] == honest_id[0]]
        self.assertEqual(honest_end[0]["log_suppressed"], 0)


if __name__ == "__main__":
    unittest.main()
