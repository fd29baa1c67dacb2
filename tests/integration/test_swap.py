"""
test_swap.py -- replacing a running server with no call cut and no call
refused (README "Restarts and upgrades").

Swap (the mechanism): swap_driver.py, in a private
network namespace with net.ipv4.tcp_migrate_req=1, runs an old --reuse-port
process with 200 calls streaming and 20 new calls a second arriving through
the answer webhook, starts the new process on the same port, and sends the
old one SIGTERM. Asserted: every frame of the 200 calls came back bit-exact,
every one of the new calls connected and echoed, the new process took calls
while the old one answered /healthz 503 and drained, and the old one exited
0 once its last call had ended -- not at the SIGTERM, and well before its
drain timeout. The figures are printed for the record.

SwapScript (the procedure): scripts/swap.sh, the installed caller-echo-swap,
with systemctl replaced by a stand-in that starts and stops real servers as
the template unit would (REUSE_PORT=1, WORKER_PORT from worker-N.env): a
call streaming on instance a goes on through the swap to b, a new call lands
on b, a is stopped with SIGTERM and exits once its call ends; a new instance
that never gets healthy is stopped again and the old one keeps serving.
"""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BIN, HERE, REPO, clean_env, curl, free_port, make_jwt, required, skip_under, tmp_root
from test_ws import connected_msg, frame, run

SWAP = os.path.join(REPO, "scripts", "swap.sh")

SIM = os.path.join(REPO, "build", "caller-sim")
UNSHARE = shutil.which("unshare")


@required(UNSHARE, "unshare missing (util-linux)")
@skip_under("valgrind", reason="200 calls under memcheck would measure valgrind, not the swap")
class Swap(unittest.TestCase):

    def test_swap_under_load(self):
        p = subprocess.run([UNSHARE, "--net", "/usr/bin/python3", os.path.join(HERE, "swap_driver.py"), BIN, SIM, "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=180)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-3000:])
        r = json.loads(p.stdout.decode().strip().splitlines()[-1])
        long, steady = r["sims"]["long"], r["sims"]["steady"]
        for name, s, n in (("long", long, 200), ("steady", steady, 100)):
            rep = s["report"]
            self.assertEqual(s["rc"], 0, "%s: %s" % (name, s["stderr"]))
            self.assertEqual((rep["connected"], rep["done"], rep["failed"]), (n, n, 0), name)
            self.assertEqual((rep["lost"], rep["mismatched"]), (0, 0), name)
            self.assertEqual(rep["echoed"], rep["sent"], name)
        self.assertEqual(r["old_before"]["calls_open"] >= 200, True, r["old_before"])
        self.assertEqual(r["old_during"]["healthz"], 503)
        self.assertIsNotNone(r["old_during"]["draining"])
        self.assertGreater(r["new"]["calls_total"], 20, "new calls did not land on the new process")
        self.assertEqual(r["new"]["rejected"], {})
        self.assertEqual(r["old_rc"], 0, r["old_log"])
        # the long calls end about 5 s after the SIGTERM: the old process waits for them
        self.assertGreater(r["old_exit_after_s"], 3.0)
        self.assertLess(r["old_exit_after_s"], 30.0)
        events = "\n".join(r["old_events"])
        self.assertIn("left the shared port", events)
        self.assertIn("drain: taking no new calls", events)
        self.assertIn("drain: every call has ended", events)
        self.assertNotIn("error", events)
        print("\n  swap: %d streaming calls, %d frames, 0 lost; %d new calls during the swap, 0 refused; "
              "%d of them on the new process; the old one exited 0 %.1f s after SIGTERM"
              % (long["report"]["calls"], long["report"]["sent"], steady["report"]["calls"],
                 r["new"]["calls_total"], r["old_exit_after_s"]), flush=True)


# systemctl, as far as caller-echo-swap uses it, for instances of the template
# unit: real servers, started the way the unit starts them
FAKE_SYSTEMCTL = r"""#!/bin/sh
set -eu
state=%(state)s
[ "$1" = "is-active" ] && { inst=${3#caller-echo@}; [ -e "$state/$inst.pid" ] && kill -0 "$(cat "$state/$inst.pid")" 2>/dev/null; exit; }
verb=$1
[ "$2" = "--no-block" ] && shift
inst=${2#caller-echo@}
echo "$verb $inst" >> "$state/calls"
case $verb in
start)
	. %(sysconf)s/caller-echo/worker-$inst.env
	REUSE_PORT=1 WORKER_ID=$inst WORKER_PORT=$WORKER_PORT %(bin)s --listen 127.0.0.1 --port %(port)d \
		--secret-file %(secret)s --drain-timeout 30 >> "$state/$inst.log" 2>&1 &
	echo $! > "$state/$inst.pid" ;;
stop)
	kill -TERM "$(cat "$state/$inst.pid")" ;;
esac
"""


@required(shutil.which("curl"), "curl missing: scripts/deps.sh test installs it")
class SwapScript(unittest.TestCase):

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="swapscript-", dir=tmp_root())
        self.state = os.path.join(self.d, "state")
        self.sysconf = os.path.join(self.d, "etc")
        os.makedirs(self.state)
        os.makedirs(os.path.join(self.sysconf, "caller-echo"))
        self.port = free_port()
        self.wports = {"a": free_port(), "b": free_port()}
        for inst, wp in self.wports.items():
            with open(os.path.join(self.sysconf, "caller-echo", "worker-%s.env" % inst), "w") as f:
                f.write("# this instance's own port\nWORKER_PORT=%d\n" % wp)
        self.secret = os.urandom(24).hex().encode()
        secret_file = os.path.join(self.d, "secret")
        with open(secret_file, "wb") as f:
            f.write(self.secret)
        os.chmod(secret_file, 0o600)
        self.systemctl = os.path.join(self.d, "systemctl")
        with open(self.systemctl, "w") as f:
            f.write(FAKE_SYSTEMCTL % {"state": self.state, "sysconf": self.sysconf, "bin": BIN,
                                      "port": self.port, "secret": secret_file})
        os.chmod(self.systemctl, 0o755)

    def tearDown(self):
        for inst in ("a", "b"):
            pidf = os.path.join(self.state, inst + ".pid")
            if os.path.exists(pidf):
                try:
                    os.kill(int(open(pidf).read()), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass

    def ctl(self, *args):
        return subprocess.run([self.systemctl] + list(args), env=clean_env(), timeout=10).returncode

    def swap(self, *args, timeout=60, extra_env=None):
        env = clean_env({"SYSTEMCTL": self.systemctl, "SYSCONFDIR": self.sysconf, **(extra_env or {})})
        p = subprocess.run(["sh", SWAP] + list(args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        return p.returncode, p.stdout.decode() + p.stderr.decode()

    def wait_healthy(self, inst):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if curl(["http://127.0.0.1:%d/healthz" % self.wports[inst]], timeout=2)[0] == 200:
                return
            time.sleep(0.05)
        self.fail("instance %s not healthy" % inst)

    def pid(self, inst):
        return int(open(os.path.join(self.state, inst + ".pid")).read())

    def test_swap_keeps_the_call_and_moves_new_ones(self):
        import websockets
        self.ctl("start", "caller-echo@a")
        self.wait_healthy("a")
        a_pid = self.pid("a")

        async def scenario():
            hdr = [("Authorization", "Bearer " + make_jwt(self.secret))]
            ws = await websockets.connect("ws://127.0.0.1:%d/socket" % self.port, extra_headers=hdr,
                                          ping_interval=None)
            await ws.send(connected_msg("through-the-swap"))
            loop = asyncio.get_running_loop()
            swap = loop.run_in_executor(None, self.swap)
            i = 0
            while not swap.done() or i < 150:   # 3 s of audio at least, across the swap
                f = frame(i, seed="swap")
                await ws.send(f)
                if await asyncio.wait_for(ws.recv(), 5) != f:
                    raise AssertionError("echo %d not bit-exact" % i)
                i += 1
                await asyncio.sleep(0.02)
            rc, out = await swap
            # a new call now lands on b: a left the shared port
            hdr = [("Authorization", "Bearer " + make_jwt(self.secret))]
            ws2 = await websockets.connect("ws://127.0.0.1:%d/socket" % self.port, extra_headers=hdr,
                                           ping_interval=None)
            await ws2.send(connected_msg("after-the-swap"))
            b_stats = json.loads(curl(["http://127.0.0.1:%d/stats.json" % self.wports["b"]])[2])
            a_alive = True
            try:
                os.kill(a_pid, 0)
            except ProcessLookupError:
                a_alive = False
            await ws2.close()
            await ws.close()
            return rc, out, i, b_stats, a_alive
        rc, out, frames, b_stats, a_alive = run(scenario(), timeout=90)
        self.assertEqual(rc, 0, out)
        self.assertIn("draining caller-echo@a", out)
        self.assertGreaterEqual(frames, 150)
        self.assertEqual([c["uuid"] for c in b_stats["connections"]], ["after-the-swap"])
        self.assertTrue(a_alive, "a exited with its call still open")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(a_pid, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                break
        else:
            self.fail("a did not exit after its call ended")
        with open(os.path.join(self.state, "calls")) as f:
            self.assertEqual(f.read().split("\n")[:3], ["start a", "start b", "stop a"])
        log = open(os.path.join(self.state, "a.log")).read()
        self.assertIn("drain: every call has ended", log)
        # and back: b is the running one now
        rc, out = self.swap()
        self.assertEqual(rc, 0, out)
        self.assertIn("starting caller-echo@a", out)

    def test_new_instance_never_healthy_is_stopped_again(self):
        self.ctl("start", "caller-echo@a")
        self.wait_healthy("a")
        # b's own port is taken: it cannot start
        blocker = __import__("socket").socket()
        blocker.bind(("127.0.0.1", self.wports["b"]))
        blocker.listen(1)
        try:
            rc, out = self.swap(extra_env={"HEALTH_TIMEOUT": "3"})
        finally:
            blocker.close()
        self.assertEqual(rc, 1, out)
        self.assertIn("caller-echo@a keeps serving", out)
        self.assertEqual(curl(["http://127.0.0.1:%d/healthz" % self.wports["a"]])[0], 200)
        with open(os.path.join(self.state, "calls")) as f:
            self.assertNotIn("stop a", f.read())

    def test_usage(self):
        rc, out = self.swap("a")
        self.assertEqual(rc, 2)
        self.assertIn("usage:", out)
        rc, out = self.swap()   # nothing running
        self.assertEqual(rc, 2)
        self.assertIn("start one first", out)


if __name__ == "__main__":
    unittest.main()
