"""
test_drain.py -- SIGTERM drains (README "Restarts and upgrades"): the
process takes no new call, its open calls go on until they end, then it
exits 0. Alone on its port, it keeps the port for /healthz and /stats but
answers new upgrades and the answer webhook with 503; with --reuse-port it
leaves the shared port to the other processes at once and keeps its
--worker-port. past --drain-timeout the calls left get 1001 and are counted;
a second SIGTERM, or SIGINT, ends them at once. While draining, /healthz
answers 503 `draining` and /stats.json, /metrics and the page say so (on
the --worker-port of a --reuse-port process, which stays open for that).
The calls are Python websockets clients echoing paced frames; every frame
sent after the SIGTERM must still come back bit-exact.
"""
import asyncio
import json
import signal
import socket
import time
import unittest

from harness import Server, curl, free_port
from test_ws import connected_msg, frame, run, ws_connect


async def paced(ws, uuid, start, n, pace=0.02):
    """Send frames start..start+n-1 every pace s and check each echo."""
    for i in range(start, start + n):
        f = frame(i, seed=uuid)
        await ws.send(f)
        got = await asyncio.wait_for(ws.recv(), 5)
        if got != f:
            raise AssertionError("%s: echo %d is not bit-exact" % (uuid, i))
        await asyncio.sleep(pace)


def connect_refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return False
    except ConnectionRefusedError:
        return True


class Drain(unittest.TestCase):

    def test_calls_finish_then_exit_0(self):
        with Server(drain=True, args=["--drain-timeout", "30"]) as srv:
            async def calls():
                socks = []
                for k in range(3):
                    ws = await ws_connect(srv)
                    await ws.send(connected_msg("d-%d" % k))
                    await paced(ws, "d-%d" % k, 0, 5)
                    socks.append(ws)
                srv.proc.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                seen = {}
                try:
                    await ws_connect(srv)
                    seen["upgrade"] = 101
                except Exception as e:
                    seen["upgrade"] = getattr(e, "status_code", repr(e))
                seen["answer"] = curl([srv.base + "/webhooks/answer?uuid=x"])[0]
                seen["healthz"] = curl([srv.base + "/healthz"])
                seen["json"] = json.loads(curl([srv.base + "/stats.json"])[2])
                # the calls go on: a second of audio each, after the SIGTERM
                await asyncio.gather(*(paced(ws, "d-%d" % k, 5, 50) for k, ws in enumerate(socks)))
                seen["alive"] = srv.proc.poll() is None
                for ws in socks:
                    await ws.close()
                return seen
            seen = run(calls())
            self.assertEqual(seen["upgrade"], 503, "a new call was taken while draining alone")
            self.assertEqual(seen["answer"], 503)
            status, headers, body = seen["healthz"]
            self.assertEqual((status, body, headers.get("connection")), (503, b"draining\n", "close"))
            self.assertEqual(seen["json"]["draining"]["calls_left"], 3)
            self.assertEqual(seen["json"]["rejected"]["shutting_down"], 2)
            self.assertTrue(seen["alive"], "exited with calls open")
            t0 = time.monotonic()
            srv.proc.wait(5)
            self.assertLess(time.monotonic() - t0, 2)
            self.assertEqual(srv.proc.returncode, 0)
            log = srv.stderr_text()
            self.assertIn("drain: taking no new calls; 3 call(s) open may go on for up to 30 s", log)
            self.assertIn("drain: every call has ended", log)
            self.assertNotIn("closing them with 1001", log)

    def test_worker_port_reports_the_drain(self):
        port, wport = free_port(), free_port()
        with Server(drain=True, port=port,
                    args=["--reuse-port", "--worker-port", str(wport), "--drain-timeout", "30"]) as srv:
            base = "http://127.0.0.1:%d" % wport

            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("watched"))
                await paced(ws, "watched", 0, 3)
                srv.proc.send_signal(signal.SIGTERM)
                await asyncio.sleep(0.3)
                seen = {}
                seen["healthz"] = curl([base + "/healthz"])
                seen["json"] = json.loads(curl([base + "/stats.json"])[2])
                seen["metrics"] = curl([base + "/metrics"])[2].decode()
                seen["page"] = curl([base + "/stats"])[2].decode()
                seen["shared_refused"] = connect_refused(port)
                await paced(ws, "watched", 3, 10)
                await ws.close()
                return seen
            seen = run(call())
            status, headers, body = seen["healthz"]
            self.assertEqual((status, body), (503, b"draining\n"))
            self.assertEqual(headers.get("connection"), "close")
            d = seen["json"]["draining"]
            self.assertEqual(d["calls_left"], 1)
            self.assertLessEqual(abs(time.mktime(time.strptime(d["deadline"], "%Y-%m-%dT%H:%M:%SZ")) -
                                     time.mktime(time.strptime(d["since"], "%Y-%m-%dT%H:%M:%SZ")) - 30), 1)
            self.assertIn("\ncaller_echo_draining 1\n", seen["metrics"])
            self.assertIn("draining: 1 call(s) left, until ", seen["page"])
            self.assertTrue(seen["shared_refused"], "the shared port still answered")
            srv.proc.wait(5)
            self.assertEqual(srv.proc.returncode, 0)

    def test_deadline_closes_the_rest_with_1001(self):
        with Server(drain=True, args=["--drain-timeout", "2"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("late"))
                await paced(ws, "late", 0, 3)
                t0 = time.monotonic()
                srv.proc.send_signal(signal.SIGTERM)
                i = 3
                try:
                    while True:   # a call that would go on for ever
                        await paced(ws, "late", i, 1)
                        i += 1
                except Exception:
                    pass
                return ws.close_code, time.monotonic() - t0, i
            code, took, sent = run(call())
            self.assertEqual(code, 1001)
            self.assertGreaterEqual(took, 1.9)
            self.assertLess(took, 4)
            self.assertGreater(sent, 50)   # it streamed through the drain
            srv.proc.wait(5)
            self.assertEqual(srv.proc.returncode, 0)
            self.assertIn("drain: --drain-timeout (2 s) reached with 1 call(s) still open: closing them with 1001",
                          srv.stderr_text())

    def test_second_sigterm_or_sigint_stops_at_once(self):
        for second in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(second=second.name), Server(drain=True, args=["--drain-timeout", "60"]) as srv:
                async def call():
                    ws = await ws_connect(srv)
                    await ws.send(connected_msg("twice"))
                    await paced(ws, "twice", 0, 3)
                    srv.proc.send_signal(signal.SIGTERM)
                    await paced(ws, "twice", 3, 10)
                    t0 = time.monotonic()
                    srv.proc.send_signal(second)
                    try:
                        await asyncio.wait_for(ws.recv(), 5)
                    except Exception:
                        pass
                    return ws.close_code, time.monotonic() - t0
                code, took = run(call())
                self.assertEqual(code, 1001)
                self.assertLess(took, 2)
                srv.proc.wait(5)
                self.assertEqual(srv.proc.returncode, 0)
                self.assertIn("drain: stop requested again: closing the 1 call(s) left now", srv.stderr_text())

    def test_sigint_alone_does_not_drain(self):
        with Server(drain=True, args=["--drain-timeout", "60"]) as srv:
            async def call():
                ws = await ws_connect(srv)
                await ws.send(connected_msg("int"))
                await paced(ws, "int", 0, 3)
                srv.proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                except Exception:
                    pass
                return ws.close_code
            self.assertEqual(run(call()), 1001)
            srv.proc.wait(5)
            self.assertNotIn("drain:", srv.stderr_text())

    def test_idle_server_exits_at_once(self):
        with Server(drain=True) as srv:   # the default --drain-timeout (600 s)
            self.assertEqual(srv.stop(timeout=3), 0)
            self.assertLess(srv.stop_seconds, 2)
            self.assertIn("up to 600 s", srv.stderr_text())


if __name__ == "__main__":
    unittest.main()
