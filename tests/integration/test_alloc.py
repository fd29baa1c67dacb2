"""
test_alloc.py -- the audio path allocates nothing per frame, on the default
event loop (libev) as on the others.

The server runs under an LD_PRELOAD shim (alloc_count.c) that counts every
malloc-family call; SIGUSR2 makes it write the count so far. One call is
opened and warmed up (its first frames, the connected message: what a call
allocates once happens here, and so does any one-off growth of the event
library's own arrays); then the count is taken, 3,000 more frames are echoed
on the same call, and the count is taken again. The two must be equal:
nothing at all was allocated while 3,000 frames came and went.
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
        """SIGUSR2, then the n-th count the shim wrote."""
        srv.proc.send_signal(signal.SIGUSR2)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if os.path.exists(path):
                with open(path) as f:
                    lines = f.read().split()
                if len(lines) >= n:
                    return int(lines[n - 1])
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
            self.assertGreater(int(f.read()), counts[1], "the shim counted nothing after the call")
        self.assertGreater(counts[0], 0, "the shim counted nothing: it is not interposing malloc")
        return counts

    def check(self, loop):
        before, after = self.count_during_call(loop)
        self.assertEqual(after, before, "%+d allocations while %d frames were echoed (%s loop)"
                         % (after - before, FRAMES, loop or "default"))

    def test_default_loop(self):
        self.check(None)   # libev

    def test_poll_loop(self):
        self.check("poll")


if __name__ == "__main__":
    unittest.main()
