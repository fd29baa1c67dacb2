"""
honest.py -- "an honest call runs meanwhile": the yardstick of every attack test.

An attack test starts HonestCall before it attacks and checks it after: the
call is build/caller-sim (an independent C client) dialling the server's
/socket directly from 127.0.0.1 with a fresh Vonage-style JWT, streaming
paced 20 ms frames for `seconds` and comparing every echo bit for bit. The
attacks come from other loopback addresses (127.0.0.2 and up), so per-address
limits never touch the honest call -- exactly the situation of Vonage's media
servers next to an abuser. assert_clean() demands: the call connected, every
frame sent came back bit-exact, none lost, none stalled, and the server
closed nothing.

    with HonestCall(srv, seconds=3) as call:
        ... attack ...
    call.assert_clean(self)
"""
import json
import os
import subprocess

from harness import REPO, clean_env

SIM = os.environ.get("CALLER_SIM_BIN") or os.path.join(REPO, "build", "caller-sim")
FRAMES_PER_S = 50          # 20 ms frames


class HonestCall:
    """caller-sim --ws-url ... --duration seconds --json, in the background."""

    def __init__(self, srv, seconds=3.0, rate=24000, extra=None):
        self.srv = srv
        self.seconds = seconds
        self.argv = [SIM, "--ws-url", srv.ws_base + "/socket", "--duration", "%g" % seconds,
                     "--rate", str(rate), "--json", "--quiet", "--connect-timeout", "5000"]
        if srv.tls:
            self.argv.append("--insecure")
        self.argv += list(extra or [])
        self.proc = None
        self.rc = None
        self.out = self.err = ""
        self.report = None

    def start(self):
        env = {k: v for k, v in clean_env().items()
               if k not in ("VONAGE_SIGNATURE_SECRET", "VONAGE_SIGNATURE_SECRET_FILE",
                            "VONAGE_APPLICATION_ID")}
        # the environment, not argv: a secret on the command line shows in ps
        env["VONAGE_SIGNATURE_SECRET"] = self.srv.secret.decode()
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        return self

    def wait(self, timeout=None):
        """Wait for the call to end (bounded); returns the parsed --json report or None."""
        if self.rc is not None:
            return self.report
        if timeout is None:
            timeout = self.seconds + 15
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            err += b"\n(honest call killed after %.0f s)" % timeout
        self.rc = self.proc.returncode
        self.out, self.err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
        try:
            self.report = json.loads(self.out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.report = None
        return self.report

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        if exc[0] is not None and self.proc and self.proc.poll() is None:
            self.proc.kill()
        self.wait()
        return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_clean(self, tc):
        """The call lost nothing: exit 0, every paced frame echoed bit-exact."""
        r = self.wait()
        why = "honest call: exit %s\nstderr:\n%s\nstdout:\n%s" % (self.rc, self.err[-2000:],
                                                                  self.out[-2000:])
        tc.assertEqual(self.rc, 0, why)
        tc.assertIsNotNone(r, why)
        want = int(round(self.seconds * FRAMES_PER_S))
        got = {k: r[k] for k in ("connected", "done", "failed", "sent", "echoed", "lost",
                                 "mismatched", "stalled")}
        tc.assertEqual(got, {"connected": 1, "done": 1, "failed": 0, "sent": want, "echoed": want,
                             "lost": 0, "mismatched": 0, "stalled": 0}, why)
        return r
