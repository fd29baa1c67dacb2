"""
test_alloc.py -- the audio path allocates nothing per frame, on the default
event loop (libev) as on the others.

The server runs under an LD_PRELOAD shim (alloc_count.c) that counts every
malloc-family call; SIGUSR2 makes it write the count so far. One call is
opened and warmed up (its first frames, the connected message: what a call
allocates once happens here, and so does any one-off growth of the event
library's own arrays); then the count is taken, 3,000 more frames are echoed
on the same call, and the count is taken again. The two must be equal:
neither our code nor lws nor libc allocated anything while 3,000 frames
came and went. The event library's own arrays are counted apart: libev
grows its pending-watcher and fd-change arrays (geometrically, never
shrinking) the first time one loop turn needs more room, which may happen
mid-call when a timer, a signal and socket events first coincide; that
growth must stay a handful (EVLIB_GROWTH_MAX), not one per frame.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import Server, skip_under, tmp_root
from test_ws import connected_msg, echo_frames, frame, run, ws_connect

HERE = os.path.dirname(os.path.abspath(__file__))
WARM, FRAMES = 200, 3000
EVLIB_GROWTH_MAX = 8   # doubling arrays: a few steps at most for one call


def build_shim():
    out = os.path.join(tempfile.mkdtemp(prefix="shim-", dir=tmp_root()), "alloc_count.so")
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, os.path.join(HERE, "alloc_count.c"), "-ldl"],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return out


@skip_under("asan", "valgrind", reason="both replace malloc, so an LD_PRELOAD counter sees nothing "
            "(ASan must also be the first preloaded library); the plain run counts")
class ZeroAllocation(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.shim = build_shim()

    def snapshot(self, srv, path, n):
        """SIGUSR2, then the n-th (all, event library's own) counts the shim wrote."""
        srv.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    lines = [l for l in f.read().split("\n") if l]
                if len(lines) >= n and len(lines[n - 1].split()) == 2:
                    total, evlib = lines[n - 1].split()
                    return int(total), int(evlib)
            time.sleep(0.01)
        self.fail("the shim wrote no count on SIGUSR2")

    def count_during_call(self, loop):
        count_file = os.path.join(tempfile.mkdtemp(prefix="alloc-", dir=tmp_root()), "count")
        snap = count_file + ".snap"
        env = {"LD_PRELOAD": self.shim, "ALLOC_COUNT_FILE": count_file}
        args = ["--max-msg-rate", "0"] + (["--event-loop", loop] if loop else [])   # frames faster than real time
        with Server(env=env, args=args) as srv:
            counts = []

            async def call():
                ws = await ws_connect(srv, compression=None)
                await ws.send(connected_msg("alloc-call"))
                warm, _ = await echo_frames(ws, WARM, seed=40, window=4, timeout=60)
                counts.append(self.snapshot(srv, snap, 1))
                echoes, texts = await echo_frames(ws, FRAMES, seed=41, window=4, timeout=120)
                counts.append(self.snapshot(srv, snap, 2))
                await ws.close()
                return warm, echoes, texts

            warm, echoes, texts = run(call(), timeout=180)
            self.assertEqual((len(warm), len(echoes), texts), (WARM, FRAMES, []))
            for i, got in enumerate(echoes):
                if got != frame(i, seed=41):
                    self.fail("echo %d of %d is not bit-exact" % (i, FRAMES))
            self.assertEqual(srv.stop(), 0, srv.stderr_text()[-2000:])
        self.assertTrue(os.path.exists(count_file), "the shim wrote no count at exit (not interposing?)")
        with open(count_file) as f:
            self.assertGreater(int(f.read()), counts[1][0], "the shim counted nothing after the call")
        self.assertGreater(counts[0][0], 0, "the shim counted nothing: it is not interposing malloc")
        return counts

    def check(self, loop):
        (total0, ev0), (total1, ev1) = self.count_during_call(loop)
        ours = (total1 - ev1) - (total0 - ev0)
        self.assertEqual(ours, 0, "%+d allocations outside the event library while %d frames were echoed (%s loop)"
                         % (ours, FRAMES, loop or "default"))
        self.assertLessEqual(ev1 - ev0, EVLIB_GROWTH_MAX, "the event library allocated %d times in %d frames"
                             % (ev1 - ev0, FRAMES))

    def test_default_loop(self):
        self.check(None)   # libev

    def test_poll_loop(self):
        self.check("poll")


if __name__ == "__main__":
    unittest.main()
