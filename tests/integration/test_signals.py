"""
test_signals.py -- every signal a well-meaning operator may send, against the
real server on each event loop (issue 19, finding 9: SIGUSR1 and SIGUSR2
killed the process, cutting every call without a close frame).

What each one means is in README "Signals" and src/main.cpp: SIGUSR1/SIGUSR2
write a status line, SIGQUIT drains like SIGTERM, SIGTSTP/SIGCONT stop and
resume (the calls go on: their idle clocks and rate windows span the stop),
the rest that would end the process are ignored with a line saying so, and
a signal whose handler was installed before main() (the tests' allocation
counter's SIGUSR2, test_alloc.py) or that the parent ignored is left alone.
Every case has a call in progress that must keep flowing -- the honest call
(caller-sim, paced, bit-exact) where the process keeps running, a Python
websockets client echoing through a stop -- and a /healthz after.
"""
import asyncio
import json
import os
import signal
import sys
import time
import unittest

from harness import SANITIZER, Server, curl, skip_under, stats
from honest import HonestCall
from test_ws import FRAME, connected_msg, frame, run, ws_connect

LOOPS = ("libev", "poll", "libuv")
IGNORED = [signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO, signal.SIGPWR, signal.SIGSTKFLT,
           signal.SIGXFSZ, signal.SIGTTIN, signal.SIGTTOU, signal.SIGRTMIN, signal.SIGRTMIN + 3, signal.SIGRTMAX]
HARMLESS = [signal.SIGWINCH, signal.SIGCHLD, signal.SIGURG, signal.SIGCONT]   # ignored by default: no line


def sig_name(s):
    """As kill -l (and the server's log) names it."""
    if s == signal.SIGRTMIN:
        return "SIGRTMIN"
    if s == signal.SIGRTMAX:
        return "SIGRTMAX"
    if signal.SIGRTMIN < s < signal.SIGRTMAX:
        return "SIGRTMIN+%d" % (s - signal.SIGRTMIN)
    return signal.Signals(s).name


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def healthz(srv):
    status, _, body = curl([srv.base + "/healthz"], timeout=5)
    return status, body


class EverySignal(unittest.TestCase):
    """A paced honest call through a volley of signals: it loses nothing, the process stays."""

    def volley(self, loop):
        with Server(args=["--event-loop", loop, "--log-format", "json"]) as srv:
            pid = srv.proc.pid
            with HonestCall(srv, seconds=3.0) as call:
                deadline = time.monotonic() + 5
                while stats(srv)["totals"]["connections_open"] < 1 and time.monotonic() < deadline:
                    time.sleep(0.02)
                for s in [signal.SIGUSR1, signal.SIGUSR2] + IGNORED + HARMLESS:
                    os.kill(pid, s)
                    time.sleep(0.12)   # one tick answers it; distinct ticks keep each line apart
                    self.assertEqual(healthz(srv), (200, b"ok\n"), "after %s" % s)
            call.assert_clean(self)
            self.assertTrue(srv.running(), "the server is still there")
            self.assertEqual(healthz(srv), (200, b"ok\n"))
            objs = json_lines(srv.stderr_text())
        status = [o["fields"] for o in objs if o["event"] == "status"]
        self.assertEqual([f["signal"] for f in status], ["SIGUSR1", "SIGUSR2"])
        for f in status:
            self.assertEqual((f["calls_open"], f["draining"], f["shutting_down"]), (1, 0, 0))
            # the shipped apps in list order; one added after them counts too
            self.assertRegex(f["msg"], r"1 call\(s\) open \(echo 1, delay 0, parrot 0, robot 0(, \w+ 0)*\), serving")
        ignored = [o["fields"]["msg"].split(" ")[0] for o in objs if o["event"] == "signal"]
        want = [sig_name(s) for s in IGNORED]
        self.assertEqual(ignored, want)
        for o in objs:
            if o["event"] == "signal":
                self.assertIn("received: ignored", o["fields"]["msg"])
                self.assertEqual(o["level"], "warn")
        # nothing closed the call from our side, and nothing at all for the harmless ones
        self.assertFalse([o for o in objs if o["event"] in ("drain", "shutdown", "call_closing")])

    def test_libev(self):
        self.volley("libev")

    def test_poll(self):
        self.volley("poll")

    def test_libuv(self):
        self.volley("libuv")


class StopAndContinue(unittest.TestCase):
    """SIGTSTP, 2.5 s, SIGCONT: what the peer sent meanwhile arrives at once, after
    more than --idle-timeout of our silence and beyond --max-msg-rate for one second;
    neither is the peer's doing, and the call goes on, every frame echoed. Before,
    the call was closed 1001 "idle timeout" (or 1008 "message rate limit")."""

    def stop_and_continue(self, loop):
        n, pace = 250, 0.020        # 5 s of paced frames; the stop is in the middle
        # a ring that holds the whole backlog: its echoes leave at once, faster than a
        # reader takes them, and a full ring would drop the oldest (by design)
        with Server(args=["--event-loop", loop, "--idle-timeout", "1", "--max-msg-rate", "80",
                          "--ring-slots", "256", "--max-calls", "20"]) as srv:
            async def call():
                ws = await ws_connect(srv, compression=None)
                await ws.send(connected_msg("tstp"))
                echoes = []

                async def reader():
                    while len(echoes) < n:
                        m = await asyncio.wait_for(ws.recv(), 10)
                        if isinstance(m, bytes):
                            echoes.append(m)

                async def sender():
                    t0 = time.monotonic()
                    for i in range(n):
                        delay = t0 + i * pace - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
                        if i == 60:
                            # SIGSTOP, not SIGTSTP: the kernel discards SIGTSTP sent to
                            # an orphaned process group (a suite started in the
                            # background), and the server's loop stalls the same way
                            os.kill(srv.proc.pid, signal.SIGSTOP)
                            asyncio.get_running_loop().call_later(2.5, os.kill, srv.proc.pid, signal.SIGCONT)
                        await ws.send(frame(i, seed="tstp"))

                await asyncio.gather(sender(), reader())
                await ws.close()
                return echoes, ws.close_code
            echoes, code = run(call(), timeout=40)
            self.assertEqual(code, 1000)
            self.assertEqual(len(echoes), n)
            self.assertTrue(all(e == frame(i, seed="tstp") for i, e in enumerate(echoes)), "bit-exact, in order")
            self.assertEqual(healthz(srv), (200, b"ok\n"))
            d = stats(srv)
            self.assertEqual((d["rejected"]["idle"], d["rejected"]["msg_rate"]), (0, 0))
            self.assertIn("the event loop did not run for", srv.stderr_text())

    def test_libev(self):
        self.stop_and_continue("libev")

    def test_poll(self):
        self.stop_and_continue("poll")

    def test_libuv(self):
        self.stop_and_continue("libuv")


class Quit(unittest.TestCase):
    """SIGQUIT drains, as SIGTERM does (nginx's graceful stop): the call goes on, then exit 0."""

    def test_quit_drains_on_every_loop(self):
        for loop in LOOPS:
            with self.subTest(loop=loop), Server(drain=True, args=["--event-loop", loop]) as srv:
                async def call():
                    ws = await ws_connect(srv, compression=None)
                    await ws.send(connected_msg("quit"))
                    got = []
                    for i in range(20):
                        if i == 5:
                            os.kill(srv.proc.pid, signal.SIGQUIT)
                            await asyncio.sleep(0.3)
                            got.append(await asyncio.get_running_loop().run_in_executor(None, healthz, srv))
                        await ws.send(frame(i, seed="q"))
                        while True:
                            m = await asyncio.wait_for(ws.recv(), 5)
                            if isinstance(m, bytes):
                                break
                        got.append(m == frame(i, seed="q"))
                    await ws.close()
                    return got
                got = run(call())
                self.assertEqual(got[5], (503, b"draining\n"))
                self.assertTrue(all(got[:5] + got[6:]) and len(got) == 21)
                srv.proc.wait(10)
                self.assertEqual(srv.proc.returncode, 0)
                self.assertIn("drain: every call has ended", srv.stderr_text())


class KeptDispositions(unittest.TestCase):
    """A disposition set before main() is left as it is: here the parent ignores SIGUSR1
    (silently: an ignored signal cannot end the process either)."""

    def test_parent_ignored_usr1_stays_ignored(self):
        runner = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGUSR1, signal.SIG_IGN); "
                  "os.execv(sys.argv[1], sys.argv[1:])"]
        with Server(runner=runner, args=["--log-format", "json"]) as srv:
            os.kill(srv.proc.pid, signal.SIGUSR1)
            os.kill(srv.proc.pid, signal.SIGUSR2)
            time.sleep(0.3)
            self.assertEqual(healthz(srv), (200, b"ok\n"))
            objs = json_lines(srv.stderr_text())
        self.assertEqual([o for o in objs if "USR1" in o["fields"]["msg"]], [])
        self.assertEqual([o["fields"]["signal"] for o in objs if o["event"] == "status"], ["SIGUSR2"])


class StatusLine(unittest.TestCase):
    """Asked for, so written whatever --log-level says."""

    def test_status_line_at_log_level_error(self):
        with Server(args=["--log-level", "error", "--event-loop", "poll"]) as srv:
            os.kill(srv.proc.pid, signal.SIGUSR1)
            deadline = time.monotonic() + 3
            while "status (SIGUSR1)" not in srv.stderr_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            log = srv.stderr_text()
        self.assertRegex(log, r"status \(SIGUSR1\): 0 call\(s\) open \(echo 0, delay 0, parrot 0, robot 0(, \w+ 0)*\), "
                              r"serving")
        self.assertNotIn(" info  caller-echo", log)   # the level still holds for everything else


@skip_under("asan", "valgrind", reason="both catch SIGSEGV themselves (a report, then their own exit)")
class FaultsStillEndTheProcess(unittest.TestCase):
    """lws's libuv loop watched SIGSEGV and SIGFPE and handed them to our signal
    callback, which ignored them: a real fault looped forever. They are the
    kernel's again on every loop."""

    def test_segv_and_fpe_are_not_swallowed(self):
        for loop in LOOPS:
            for s in (signal.SIGSEGV, signal.SIGFPE):
                with self.subTest(loop=loop, sig=s), Server(args=["--event-loop", loop]) as srv:
                    os.kill(srv.proc.pid, s)
                    srv.proc.wait(5)
                    self.assertEqual(srv.proc.returncode, -s)


if __name__ == "__main__":
    unittest.main()
