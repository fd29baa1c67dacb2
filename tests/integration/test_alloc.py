"""
test_alloc.py -- the audio path allocates nothing per frame.

The server runs under an LD_PRELOAD shim (alloc_count.c) that counts every
malloc-family call and writes the total at exit. Two runs that differ only
in the number of frames echoed (N and 10*N) must make exactly the same
number of allocations. Everything else is kept identical between the runs:
one readiness GET /healthz (the harness retries only refused connects), one
WebSocket with the same JWT shape and the same connected message, a clean
close, then SIGTERM.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import Server, tmp_root
from test_ws import connected_msg, echo_frames, frame, run, ws_connect

HERE = os.path.dirname(os.path.abspath(__file__))
N = 300


def build_shim():
    out = os.path.join(tempfile.mkdtemp(prefix="shim-", dir=tmp_root()), "alloc_count.so")
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise unittest.SkipTest("no C compiler for the LD_PRELOAD shim")
    subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, os.path.join(HERE, "alloc_count.c"), "-ldl"],
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return out


class ZeroAllocation(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.shim = build_shim()

    def count_allocations(self, frames):
        """Run one call of `frames` frames under the shim; returns the count."""
        count_file = os.path.join(tempfile.mkdtemp(prefix="alloc-", dir=tmp_root()), "count")
        env = {"LD_PRELOAD": self.shim, "ALLOC_COUNT_FILE": count_file}
        # frames go out faster than real time: no message-rate cap here.
        # lws's own poll loop: libev grows its pending-event array (realloc
        # inside ev_run) the first time a loop pass sees more events than
        # ever before, which on a loaded machine can happen once more in the
        # longer run. That is the event library sizing itself, not a cost per
        # frame, and our audio path is the same code on every loop.
        with Server(env=env, args=["--max-msg-rate", "0", "--event-loop", "poll"]) as srv:
            async def call():
                ws = await ws_connect(srv, compression=None)
                await ws.send(connected_msg("alloc-call"))
                echoes, texts = await echo_frames(ws, frames, seed=40, window=4, timeout=60)
                await ws.close()
                return echoes, texts

            echoes, texts = run(call(), timeout=90)
            self.assertEqual(len(echoes), frames)
            for i, got in enumerate(echoes):
                if got != frame(i, seed=40):
                    self.fail("echo %d of %d is not bit-exact" % (i, frames))
            self.assertEqual(texts, [])
            code = srv.stop()
            self.assertEqual(code, 0, "exit status under the shim; stderr:\n" + srv.stderr_text()[-2000:])
        self.assertTrue(os.path.exists(count_file), "the shim wrote no count (did the server _exit?)")
        with open(count_file) as f:
            return int(f.read())

    def test_allocations_independent_of_frame_count(self):
        small = self.count_allocations(N)
        large = self.count_allocations(10 * N)
        self.assertGreater(small, 0, "the shim counted nothing: it is not interposing malloc")
        self.assertEqual(large, small,
                         "%d allocations for %d frames but %d for %d frames: %+d over %d extra frames"
                         % (small, N, large, 10 * N, large - small, 9 * N))


if __name__ == "__main__":
    unittest.main()
