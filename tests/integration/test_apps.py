"""
test_apps.py -- the voice apps (docs/apps.md) end to end: the real server
with --app, driven by Python's websockets, Node's ws and websocket, and
caller-sim playing Vonage's side (its playback buffer, clear and notify).

  echo    a burst of 8 frames comes back whole; of 9, 50 or 150, 8 come
          back and the rest count as dropped -- on libev and poll, over ws
          and wss, with every client (the policy is the app's, in time, not
          an accident of the event loop); a paced call loses nothing
  delay   caller-sim hears every frame --delay-ms later (its delay check);
          bursts of 8, 9, 50 and 150 all come back, in order
  parrot  caller-sim's scripted caller hears each utterance back, notify
          round trips in order; barge-in gets clear within a frame; bursts
          of 8, 9, 50 and 150 voiced frames are all played back
  robot   the worked example: the caller's audio comes back ring-modulated
  DTMF    keys 1-4 move a live call between the apps (logged, on /stats and
          /metrics); --dtmf-switch=0 leaves the digits to the app
  NCCO    each app's own talk text, unless --talk-text says otherwise

Every test here runs the server with the real-time burst policy
(realtime=True in harness.Server): the echo app's default.
"""
import asyncio
import json
import math
import struct
import time
import unittest

from harness import SANITIZER, Server, curl, make_jwt, stats
from nodeclient import node_call
from test_sim import run_json
from test_ws import FRAME, connected_msg, frame, run, ws_connect

BURSTS = (8, 9, 50, 150)
ECHO_KEEPS = 8   # --echo-max-ms 160 at 20 ms a frame


def metric(srv, line_start):
    _, _, body = curl([srv.base + "/metrics"])
    for line in body.decode().splitlines():
        if line.startswith(line_start + " "):
            return float(line.split()[-1])
    raise AssertionError("no %s in /metrics" % line_start)


def call_row(srv, uuid):
    rows = [c for c in stats(srv)["connections"] if c["uuid"] == uuid]
    return rows[0] if rows else None


async def burst_call(srv, n, linger, uuid="burst", size=FRAME, rate=24000, then=()):
    """Open a call, send n distinct frames at once (then the frames in
    `then`, also at once), and collect for `linger` seconds what comes back.
    Returns (indices of our frames that came back, in order; other binary
    messages; text messages)."""
    ws = await ws_connect(srv)
    await ws.send(connected_msg(uuid, rate))
    sent = {}
    for i in range(n):
        f = frame(i, seed=uuid, size=size)
        sent[f] = i
        await ws.send(f)
    for f in then:
        await ws.send(f)
    got, other, texts = [], 0, []
    end = time.monotonic() + linger
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            m = await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            break
        if isinstance(m, str):
            texts.append(json.loads(m))
        elif m in sent:
            got.append(sent[m])
        else:
            other += 1
    await ws.close()
    return got, other, texts


def dropped(srv):
    return stats(srv)["totals"]["frames_dropped"]


class EchoBursts(unittest.TestCase):
    """The echo app's burst policy, the same on every loop, transport and client."""

    def check_bursts(self, srv, label):
        for n in BURSTS:
            with self.subTest(where=label, burst=n):
                before = dropped(srv)
                got, other, texts = run(burst_call(srv, n, 0.6, uuid="%s-%d" % (label, n)))
                want = min(n, ECHO_KEEPS)
                # which 8: the newest still waiting when the budget ran out (those
                # that had already gone out, on a loop that sends between reads,
                # are kept): so in order, but not always one run
                if SANITIZER and n > ECHO_KEEPS:
                    # the budget refills one frame per 20 ms of the server's
                    # clock; the sanitizer build beside the plain suite can
                    # take longer than that to work through a 150-frame burst
                    # over TLS, and then rightly echoes one or two more
                    self.assertTrue(want <= len(got) <= want + 2, got)
                else:
                    self.assertEqual(len(got), want, got)
                self.assertEqual(got, sorted(set(got)), "duplicates or out of order")
                if n <= ECHO_KEEPS:
                    self.assertEqual(got, list(range(n)))
                self.assertEqual((other, texts), (0, []))
                # trimmed frames are counted; the stats are read once the call has closed
                deadline = time.monotonic() + 2
                while dropped(srv) - before != n - len(got) and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(dropped(srv) - before, n - len(got))

    def test_bursts_on_libev_and_poll(self):
        for loop in ("libev", "poll"):
            with Server(realtime=True, args=["--event-loop", loop]) as srv:
                self.check_bursts(srv, loop)

    def test_bursts_over_wss(self):
        with Server(realtime=True, tls=True) as srv:
            self.check_bursts(srv, "wss")

    def test_bursts_with_node_clients(self):
        with Server(realtime=True) as srv:
            for lib in ("ws", "websocket"):
                for n in (9, 150):
                    with self.subTest(lib=lib, burst=n):
                        r = node_call(srv.ws_base + "/socket", lib=lib, token=make_jwt(srv.secret), frames=n,
                                      size=FRAME, burst=True, linger=0.6)
                        if SANITIZER and n > ECHO_KEEPS:
                            # as in check_bursts: a slow sanitizer build rightly echoes one
                            # or two more (the budget refills per 20 ms of its clock)
                            self.assertTrue(ECHO_KEEPS <= r["echoed"] <= ECHO_KEEPS + 2, r)
                        else:
                            self.assertEqual(r["echoed"], ECHO_KEEPS, r)
                        self.assertEqual(r["got"], sorted(set(r["got"])), r)
                        self.assertEqual(r["mismatched"], 0, r)

    def test_max_ms_is_the_budget_and_zero_keeps_all(self):
        with Server(realtime=True, args=["--echo-max-ms", "60"]) as srv:
            got, _, _ = run(burst_call(srv, 20, 0.5, uuid="budget-60"))
            self.assertEqual(len(got), 3)
        with Server(realtime=True, args=["--echo-max-ms", "0", "--event-loop", "poll"]) as srv:
            # poll sends between reads: with no budget every frame of the burst comes back
            got, _, _ = run(burst_call(srv, 150, 0.8, uuid="budget-0"))
            self.assertEqual(got, list(range(150)))

    def test_paced_call_loses_nothing(self):
        """A call paced like Vonage's (caller-sim, 20 ms a frame) is never trimmed."""
        with Server(realtime=True) as srv:
            j = run_json(self, ["--json", "--duration", "3", srv.base + "/webhooks/answer"], srv.secret)
            self.assertEqual((j["sent"], j["echoed"], j["lost"], j["mismatched"]), (150, 150, 0, 0))
            self.assertEqual(stats(srv)["totals"]["frames_dropped"], 0)


class DelayApp(unittest.TestCase):
    def test_caller_hears_itself_one_delay_later(self):
        with Server(realtime=True, args=["--app", "delay", "--delay-ms", "500"]) as srv:
            j = run_json(self, ["--duration", "3", "--expect", "delay=500", srv.base + "/webhooks/answer"],
                         srv.secret)
            self.assertEqual(j["expect"], "delay=500")
            self.assertEqual(j["check_failed"], 0)
            self.assertGreaterEqual(j["heard"], 150 - 500 // 20 - 10)
            self.assertEqual(stats(srv)["totals"]["frames_dropped"], 0)

    def test_bursts_kept_whole(self):
        with Server(realtime=True, args=["--app", "delay", "--delay-ms", "200"]) as srv:
            for n in BURSTS:
                with self.subTest(burst=n):
                    t0 = time.monotonic()
                    got, other, _ = run(burst_call(srv, n, 1.5, uuid="delay-%d" % n))
                    self.assertEqual(got, list(range(n)))
                    self.assertEqual(other, 0)
            self.assertEqual(stats(srv)["totals"]["frames_dropped"], 0)
            self.assertGreater(time.monotonic() - t0, 1.4)

    def test_node_burst(self):
        with Server(realtime=True, args=["--app", "delay", "--delay-ms", "200"]) as srv:
            r = node_call(srv.ws_base + "/socket", lib="ws", token=make_jwt(srv.secret), frames=150, size=FRAME,
                          burst=True, linger=1.5)
            self.assertEqual(r["got"], list(range(150)), r)


QUIET = bytes(FRAME)   # zero samples: no voice


class ParrotApp(unittest.TestCase):
    def test_caller_hears_each_utterance_back(self):
        with Server(realtime=True, args=["--app", "parrot"]) as srv:
            j = run_json(self, ["--duration", "10", "--expect", "parrot", "--talk", "800", "--pause", "2200",
                                srv.base + "/webhooks/answer"], srv.secret)
            self.assertEqual(j["check_failed"], 0)
            self.assertGreaterEqual(j["notify_answered"], 3)
            self.assertEqual(j["notify_received"], j["notify_answered"])
            self.assertGreater(j["heard_other"], 0)   # the beeps
            self.assertEqual(metric(srv, 'caller_echo_commands_answered_total{command="notify"}'),
                             j["notify_answered"])

    def test_barge_in_clears_within_a_frame(self):
        with Server(realtime=True, args=["--app", "parrot"]) as srv:
            j = run_json(self, ["--duration", "12", "--expect", "parrot", "--talk", "1200", "--pause", "3000",
                                "--barge-in", "200", srv.base + "/webhooks/answer"], srv.secret)
            self.assertEqual(j["check_failed"], 0)
            self.assertGreaterEqual(j["clear_received"], 1)
            self.assertGreater(j["cleared_frames"], 0)   # Vonage's buffer held the interrupted playback
            self.assertEqual(metric(srv, 'caller_echo_commands_sent_total{command="clear"}'), j["clear_received"])
            self.assertEqual(metric(srv, 'caller_echo_commands_answered_total{command="clear"}'),
                             j["clear_received"])

    def test_bursts_played_back_whole(self):
        with Server(realtime=True, args=["--app", "parrot"]) as srv:
            for n in BURSTS:
                with self.subTest(burst=n):
                    # the utterance arrives as one burst, then 800 ms of quiet ends it
                    got, other, texts = run(burst_call(srv, n, 2.0, uuid="parrot-%d" % n, then=[QUIET] * 40))
                    self.assertEqual(got, list(range(n)))
                    self.assertGreaterEqual(other, 8)   # the beep (and quiet frames played back)
                    self.assertIn({"action": "notify", "payload": {"parrot": 1}}, texts)
            self.assertEqual(stats(srv)["totals"]["frames_dropped"], 0)


def sample_at(b, i):
    return struct.unpack_from("<h", b, 2 * i)[0]


class RobotExample(unittest.TestCase):
    def test_robot_voice(self):
        """The worked example of docs/apps.md: a constant comes back as a 50 Hz sine."""
        with Server(realtime=True, args=["--app", "robot", "--rate", "8000"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("robot", 8000))
                out = []
                for i in range(10):
                    await ws.send(struct.pack("<160h", *([10000] * 160)))
                    out.append(await asyncio.wait_for(ws.recv(), 3))
                    await asyncio.sleep(0.02)
                await ws.close()
                return out
            out = run(call())
        for k, f in enumerate(out):
            self.assertEqual(len(f), 320)
            for i in range(160):
                n = k * 160 + i
                want = 10000 * math.sin(2 * math.pi * 50 * n / 8000)
                self.assertLessEqual(abs(sample_at(f, i) - want), 10000 * 2 * math.pi / 64 + 2, (k, i))


def dtmf(d):
    return json.dumps({"event": "websocket:dtmf", "digit": d, "duration": 200})


class DtmfSwitch(unittest.TestCase):
    def test_keys_move_a_call_between_apps(self):
        with Server(realtime=True, args=["--delay-ms", "300"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("keys"))
                seen = {}

                async def exchange(i, wait):
                    """Send frame i (None: a quiet one), then gather what comes within `wait` s."""
                    await ws.send(frame(i, seed="keys") if i is not None else QUIET)
                    got = []
                    end = time.monotonic() + wait
                    while time.monotonic() < end:
                        try:
                            got.append(await asyncio.wait_for(ws.recv(), max(0.001, end - time.monotonic())))
                        except asyncio.TimeoutError:
                            break
                    return got

                seen["echo"] = await exchange(0, 0.1)
                await ws.send(dtmf("2"))
                seen["delay_now"] = await exchange(1, 0.1)
                seen["delay_row"] = call_row(srv, "keys")["app"]
                seen["delay_later"] = await exchange(2, 0.5)
                await ws.send(dtmf("3"))
                seen["parrot"] = await exchange(None, 0.4)   # quiet: talking would cut the beep short
                seen["parrot_row"] = call_row(srv, "keys")["app"]
                await ws.send(dtmf("4"))
                seen["robot_metric"] = metric(srv, 'caller_echo_calls_open_by_app{app="robot"}')
                await ws.send(dtmf("1"))
                seen["echo_again"] = await exchange(4, 0.1)
                seen["echo_row"] = call_row(srv, "keys")["app"]
                await ws.close()
                return seen

            seen = run(call())
            log = srv.stderr_text()
        f = lambda i: frame(i, seed="keys")
        self.assertEqual(seen["echo"], [f(0)])
        # the switch clears what echo had queued at Vonage; delay holds frame 1 back
        self.assertEqual(seen["delay_now"], ['{"action":"clear"}'])
        self.assertEqual(seen["delay_row"], "delay")
        self.assertIn(f(1), seen["delay_later"])
        self.assertIn(f(2), seen["delay_later"])
        # parrot: a clear, then the beep (audio that is none of ours)
        self.assertEqual(seen["parrot"][0], '{"action":"clear"}')
        beep = [m for m in seen["parrot"] if isinstance(m, bytes)]
        self.assertEqual(len(beep), 8)                        # 160 ms
        self.assertTrue(all(m != QUIET for m in beep))
        self.assertEqual(seen["parrot_row"], "parrot")
        self.assertEqual(seen["robot_metric"], 1)
        self.assertIn(f(4), seen["echo_again"])
        self.assertEqual(seen["echo_row"], "echo")
        for a, b in (("echo", "delay"), ("delay", "parrot"), ("parrot", "robot"), ("robot", "echo")):
            self.assertIn("switched from the %s app to %s" % (a, b), log)

    def test_switch_off_leaves_digits_to_the_app(self):
        with Server(realtime=True, args=["--dtmf-switch=0"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("nokeys"))
                await ws.send(dtmf("2"))
                await ws.send(frame(0, seed="nokeys"))
                echo = await asyncio.wait_for(ws.recv(), 3)
                row = call_row(srv, "nokeys")
                await ws.close()
                return echo, row
            echo, row = run(call())
        self.assertEqual(echo, frame(0, seed="nokeys"))
        self.assertEqual((row["app"], row["last_dtmf"]), ("echo", "2"))


class AppMemory(unittest.TestCase):
    """--app-memory-max caps what callers can make the apps allocate."""

    def test_switch_refused_past_the_budget(self):
        # 1 MiB: two parrot recordings (468.75 KiB each) fit, a third does not
        with Server(realtime=True, args=["--app-memory-max", "1"]) as srv:
            async def calls():
                socks = []
                for i in range(3):
                    ws = await ws_connect(srv)
                    await ws.send(connected_msg("mem-%d" % i))
                    await ws.send(dtmf("3"))
                    socks.append(ws)
                await asyncio.sleep(0.3)
                rows = {c["uuid"]: c["app"] for c in stats(srv)["connections"]}
                heap = stats(srv)["app_heap_bytes"]
                refused = metric(srv, "caller_echo_apps_refused_total")
                # the refused call still echoes
                await socks[2].send(frame(0, seed="mem"))
                got = None
                while not isinstance(got, bytes):
                    got = await asyncio.wait_for(socks[2].recv(), 3)
                for ws in socks:
                    await ws.close()
                return rows, heap, refused, got
            rows, heap, refused, got = run(calls())
            self.assertEqual(sorted(rows.values()), ["echo", "parrot", "parrot"])
            self.assertEqual(heap, 2 * 500 * 960)
            self.assertEqual(refused, 1)
            self.assertEqual(got, frame(0, seed="mem"))
            self.assertIn("needs 468 KiB and --app-memory-max has", srv.stderr_text())
            deadline = time.monotonic() + 3
            while stats(srv)["app_heap_bytes"] and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(stats(srv)["app_heap_bytes"], 0, "the buffers were given back")

    def test_start_app_without_room_closes_1013(self):
        with Server(realtime=True, args=["--app", "delay", "--app-memory-max", "0"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("nomem"))
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                except Exception:
                    pass
                await asyncio.sleep(0.1)
                return ws.close_code
            self.assertEqual(run(call()), 1013)


class TalkText(unittest.TestCase):
    def ncco_talk(self, srv):
        _, _, body = curl([srv.base + "/webhooks/answer?uuid=u&from=1&to=2"])
        talk = [a for a in json.loads(body) if a["action"] == "talk"]
        return talk[0]["text"] if talk else None

    def test_each_app_explains_itself(self):
        for app, words in (("echo", "You will hear yourself."), ("delay", "after a short delay"),
                           ("parrot", "After the beep"), ("robot", "as a robot")):
            with self.subTest(app=app), Server(realtime=True, args=["--app", app]) as srv:
                self.assertIn(words, self.ncco_talk(srv))

    def test_talk_text_overrides_and_empty_means_none(self):
        with Server(realtime=True, args=["--app", "parrot", "--talk-text", "Hi"]) as srv:
            self.assertEqual(self.ncco_talk(srv), "Hi")
        with Server(realtime=True, args=["--app", "parrot", "--talk-text", ""]) as srv:
            self.assertIsNone(self.ncco_talk(srv))

    def test_unknown_app_is_a_usage_error(self):
        with self.assertRaises(Exception) as ctx:
            Server(args=["--app", "karaoke"]).start()
        self.assertIn("'karaoke' is not an app: echo, delay, parrot, robot", str(ctx.exception))


if __name__ == "__main__":
    unittest.main()
