"""
test_memory.py -- memory per call, measured on the real server.

Opens FIRST authenticated calls, reads the server's resident set from /proc,
opens MORE calls STEPS times, reading it after each, and holds the growth
per added call to a 6 KiB budget (lws's socket structures ~2.3 KiB, our
session data ~1.1 KiB, frame slots borrowed from the shared pool only while
frames are in them). Every call sends websocket:connected and echoes a few
frames, so each per-connection buffer is in use. Measuring from a first
load leaves out the one-off growth of the first calls (lws's and libev's
tables, allocator arenas), which would otherwise dominate at a few hundred
calls and vanish at thousands. Two things are not per call and are kept out,
because they follow the machine's speed, not the calls: the handshakes in
progress at once (BATCH at a time; each holds an lws header table) and the
frame slots out at once (the pool's touched pages, from its peak). The
computed part of the figure (our session data and lws's receive buffer) is
pinned more tightly by tests/unit/test_ws_audio.cpp; this test catches what
the computation cannot see (lws's per-socket structures, allocator overhead).
"""
import asyncio
import unittest

import time

from harness import Server, skip_under, stats
from test_ws import connected_msg, echo_frames, frame, run, ws_connect

FIRST = 200
MORE = 300
STEPS = 2
BATCH = 25
BUDGET_KIB = 6   # issue 15: 4-5 KiB measured (docs/benchmarks.md); slack for allocator noise


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


@skip_under("asan", "valgrind", reason="shadow memory and redzones (ASan) or the tool's own "
            "heap (valgrind) make RSS per call meaningless; the plain run holds the budget")
class MemoryPerCall(unittest.TestCase):

    def test_rss_per_call_within_budget(self):
        # 800 calls from one address: past the per-address burst on purpose
        with Server(args=["--limit-exempt", "127.0.0.0/8"]) as srv:
            async def open_calls(first, n):
                # BATCH handshakes at a time: lws holds a header table per
                # handshake in progress (its pool is as large as the fd limit),
                # so a slow server would otherwise hold more of them at once
                # the slower it is, and their freed memory stays resident
                socks = []
                for k in range(0, n, BATCH):
                    socks += await asyncio.gather(*(ws_connect(srv, compression=None)
                                                    for _ in range(min(BATCH, n - k))))
                for i, ws in enumerate(socks):
                    await ws.send(connected_msg("mem-%d" % (first + i)))
                results = await asyncio.gather(*(echo_frames(ws, 3, seed=(first + i) % 7, window=3)
                                                 for i, ws in enumerate(socks)))
                for i, (echoes, _texts) in enumerate(results):
                    self.assertEqual(echoes, [frame(k, seed=(first + i) % 7) for k in range(3)])
                return socks

            async def measure():
                socks = await open_calls(0, FIRST)
                points = [(rss_kib(srv.proc.pid), stats(srv)["frame_slots"]["peak"])]
                for step in range(STEPS):
                    socks += await open_calls(FIRST + step * MORE, MORE)
                    points.append((rss_kib(srv.proc.pid), stats(srv)["frame_slots"]["peak"]))
                for ws in socks:
                    await ws.close()
                return points

            points = run(measure(), timeout=120)
            # Frames in flight are not memory per call: the pool's pages are
            # touched up to the most slots ever out at once, which depends on
            # how many echoes one loop pass happens to hold (a busy machine:
            # more). Take those pages out of the growth.
            def growth(i, j):
                (rss0, peak0), (rss1, peak1) = points[i], points[j]
                return (rss1 - rss0 - (peak1 - peak0) * 984 / 1024) / (MORE * (j - i))
            steps = [growth(i, i + 1) for i in range(STEPS)]
            per_call = growth(0, STEPS)
            print("RSS per added call: %.2f KiB over %d calls (steps of %d: %s KiB; RSS KiB and frame slots at peak: %s)"
                  % (per_call, MORE * STEPS, MORE, " / ".join("%.2f" % x for x in steps), points))
            self.assertLessEqual(per_call, BUDGET_KIB,
                                 "RSS KiB and slots at peak %r at %d calls and %d more each step: %.1f KiB per added call"
                                 % (points, FIRST, MORE, per_call))
            self.assertGreater(per_call, 1, "RSS did not grow at all: the measurement is broken")
            # the frame slots: a full ring reserved per call (--max-calls 2000 x
            # (8 + 1)), only a few ever held at once by calls echoed as they
            # come, and every one given back when the calls closed
            deadline = time.monotonic() + 10
            while stats(srv)["totals"]["connections_open"] and time.monotonic() < deadline:
                time.sleep(0.1)
            fs = stats(srv)["frame_slots"]
            self.assertEqual(fs["reserved"], 2000 * 9)
            self.assertEqual(fs["slot_bytes"], 984)
            self.assertEqual(fs["in_use"], 0, "slots still held after every call closed: %r" % fs)
            self.assertGreaterEqual(fs["peak"], 1)
            self.assertLess(fs["peak"], FIRST + MORE, "calls held slots between frames: %r" % fs)


if __name__ == "__main__":
    unittest.main()
