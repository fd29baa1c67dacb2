"""
test_workers.py -- several processes on one port (--reuse-port), each named
by --worker-id and each readable alone on its --worker-port (README "Deploy").

Two TLS workers share a port; caller-sim places 16 wss calls through the
shared port's answer webhook with zero loss; each worker's own /stats.json
(through its worker port) names it and counts only its calls, the two
together count exactly what the simulator sent, and both got some (the
kernel spreads connections by a hash of the 4-tuple: all 16 on one worker
has odds 2^-15). Stopping one worker leaves the port served by the other
(the stopping one leaves the port as its drain begins). Our listener passes
connections through the same accept filter as lws's own (per-address cap).
A server without --reuse-port cannot take a shared port; bad worker
options exit 2.
"""
import json
import os
import socket
import subprocess
import time
import unittest

from harness import BIN, Server, clean_env, curl, free_port, stats, tmp_root
from test_sim import run_json


def worker_stats(port, tls):
    status, _, body = curl(["%s://127.0.0.1:%d/stats.json" % ("https" if tls else "http", port)])
    if status != 200:
        raise AssertionError("worker port %d: /stats.json -> %s" % (port, status))
    return json.loads(body)


class SharedPort(unittest.TestCase):

    def test_two_tls_workers_share_one_port(self):
        port, wports = free_port(), (free_port(), free_port())
        secret = os.urandom(24).hex().encode()
        workers = [Server(tls=True, secret=secret, port=port,
                          args=["--reuse-port", "--worker-port", str(wp), "--worker-id", wid])
                   for wp, wid in zip(wports, ("w1", "w2"))]
        with workers[0], workers[1]:
            r = run_json(self, ["--calls", "16", "--duration", "0.6", "--insecure",
                                "https://127.0.0.1:%d/webhooks/answer" % port], secret)
            self.assertEqual((r["done"], r["failed"], r["lost"], r["mismatched"]), (16, 0, 0, 0))
            self.assertTrue(r["ws_uri"].startswith("wss://127.0.0.1:%d/" % port), r["ws_uri"])
            per = [worker_stats(wp, True) for wp in wports]
            self.assertEqual([d["worker"] for d in per], ["w1", "w2"])
            self.assertEqual([d["pid"] for d in per], [w.proc.pid for w in workers])
            calls = [d["totals"]["connections_total"] for d in per]
            self.assertEqual(sum(calls), 16, calls)
            self.assertTrue(all(c > 0 for c in calls), "one worker got every call: %r" % calls)
            for key in ("packets_received", "packets_sent"):
                self.assertEqual(sum(d["totals"][key] for d in per), r["sent"], key)
            for w, wid in zip(workers, ("w1", "w2")):
                lines = [ln for ln in w.stderr_text().splitlines() if ln.strip()]
                self.assertTrue(lines and all(" [%s] " % wid in ln for ln in lines),
                                "untagged log lines:\n" + w.stderr_text())
                self.assertIn("shared (SO_REUSEPORT), own port", w.stderr_text())

            # a rolling restart: w1 goes, the port keeps answering through w2;
            # w1 left the port as its drain began, not when it exited
            self.assertEqual(workers[0].stop(), 0)
            log = workers[0].stderr_text()
            self.assertLess(log.index("shutting down"), log.index("left the shared port"))
            self.assertLess(log.index("left the shared port"), log.index("stopped"))
            before = worker_stats(wports[1], True)["totals"]["connections_total"]
            r = run_json(self, ["--calls", "4", "--duration", "0.3", "--insecure",
                                "https://127.0.0.1:%d/webhooks/answer" % port], secret)
            self.assertEqual((r["done"], r["lost"]), (4, 0))
            self.assertEqual(worker_stats(wports[1], True)["totals"]["connections_total"], before + 4)

    def test_accept_filter_applies(self):
        # our listener hands each connection to the same filter as lws's own:
        # the per-address cap on connections that are not calls still holds
        with Server(args=["--reuse-port", "--max-conns-per-addr", "3"]) as srv:
            # from an address of their own: the harness's and curl's
            # connections from 127.0.0.1 may still be closing on the server
            src = ("127.0.0.9", 0)
            held = [socket.create_connection(("127.0.0.1", srv.port), timeout=5, source_address=src)
                    for _ in range(3)]
            try:
                time.sleep(0.2)
                extra = socket.create_connection(("127.0.0.1", srv.port), timeout=5, source_address=src)
                extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                try:
                    got = extra.recv(100)
                except ConnectionResetError:
                    got = b""
                extra.close()
                self.assertEqual(got, b"", "a 4th idle connection was served")
            finally:
                for h in held:
                    h.close()
            time.sleep(0.2)
            self.assertEqual(stats(srv)["rejected"]["addr_conns"], 1)

    def test_plain_server_cannot_take_a_shared_port(self):
        port = free_port()
        with Server(port=port, args=["--reuse-port"]) as srv:
            self.assertTrue(srv.running())
            secret = os.path.join(tmp_root(), "plain-secret")
            with open(secret, "w") as f:
                f.write("x" * 40)
            p = subprocess.run([BIN, "--listen", "127.0.0.1", "--port", str(port),
                                "--secret-file", secret], env=clean_env(), timeout=10,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 1, p.stderr.decode())
            self.assertEqual(curl([srv.base + "/healthz"])[0], 200)

    def test_bad_worker_options(self):
        secret = os.path.join(tmp_root(), "opt-secret")
        with open(secret, "w") as f:
            f.write("x" * 40)
        cases = {
            "worker port without reuse": (["--worker-port", "9999"], "--worker-port"),
            "worker port = port": (["--reuse-port", "--port", "9998", "--worker-port", "9998"],
                                   "--worker-port"),
            "reuse-port=2": (["--reuse-port=2"], "--reuse-port"),
            "worker id with a space": (["--worker-id", "a b"], "--worker-id"),
            "worker id with html": (["--worker-id", "<b>"], "--worker-id"),
        }
        for what, (args, name) in cases.items():
            with self.subTest(what):
                p = subprocess.run([BIN, "--secret-file", secret] + args, env=clean_env(),
                                   timeout=10, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertEqual(p.returncode, 2)
                self.assertIn(name, p.stderr.decode())
        p = subprocess.run([BIN, "--secret-file", secret, "--help"], env=clean_env(), timeout=10,
                           stdout=subprocess.PIPE)
        for flag in ("--worker-id", "--reuse-port", "--worker-port"):
            self.assertIn(flag, p.stdout.decode())


if __name__ == "__main__":
    unittest.main()
