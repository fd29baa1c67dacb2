"""
test_reload.py -- SIGHUP reloads the TLS certificate and key (README "Deploy").

A wss call streams paced frames while the certificate files are replaced and
the server gets SIGHUP: a new connection must be served the new certificate
(compared byte for byte, DER), the running call must get every frame back
bit-exact, and the server keeps running. A reloaded chain file sends its
intermediate (a client trusting only the root verifies). A bad or mismatched pair, or a key
of another type, is refused with a log line and the previous certificate
stays in service. A server without TLS shrugs SIGHUP off (the default action
would have killed it). The reload is checked on all three event loops,
because libuv catches SIGHUP itself and reports it through lws.
"""
import asyncio
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest

import websockets

from harness import Server, bearer, curl, tmp_root
from test_ws import FRAME, connected_msg, frame


def make_pair(d, name, cn, key="ec"):
    """A self-signed pair (cert, key paths) with its own CN and a random serial."""
    cert, keyf = os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] if key == "ec" else \
        ["-newkey", "rsa:2048"]
    subprocess.run(["openssl", "req", "-x509"] + newkey +
                   ["-nodes", "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyf, "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    return cert, keyf


def make_chain(d):
    """root CA -> intermediate CA -> leaf for 127.0.0.1: (root cert, leaf+intermediate file, leaf key)."""
    def run(*args, cwd=d):
        subprocess.run(list(args), check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=60)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    run("openssl", "req", "-x509", *ec, "-days", "2", "-subj", "/CN=test root",
        *ca_ext, "-keyout", "root.key", "-out", "root.crt")
    with open(os.path.join(d, "ca.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n")
    run("openssl", "req", "-new", *ec, "-subj", "/CN=test intermediate", "-keyout", "int.key",
        "-out", "int.csr")
    run("openssl", "x509", "-req", "-in", "int.csr", "-CA", "root.crt", "-CAkey", "root.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ca.ext", "-out", "int.crt")
    run("openssl", "req", "-new", *ec, "-subj", "/CN=caller-echo-chained", "-keyout", "leaf.key",
        "-out", "leaf.csr")
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "int.crt", "-CAkey", "int.key",
        "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.crt")
    with open(os.path.join(d, "chain.pem"), "wb") as out:
        for name in ("leaf.crt", "int.crt"):
            with open(os.path.join(d, name), "rb") as f:
                out.write(f.read())
    return os.path.join(d, "root.crt"), os.path.join(d, "chain.pem"), os.path.join(d, "leaf.key")


def verifies_with(port, cafile):
    """True when a client trusting only cafile completes the handshake."""
    ctx = ssl.create_default_context(cafile=cafile)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1"):
                return True
    except ssl.SSLCertVerificationError:
        return False


def der_of(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def install(src_pair, dst_pair):
    """Replace the served files the way certbot's deploy step would: write, then rename."""
    for src, dst in zip(src_pair, dst_pair):
        with open(src, "rb") as f:
            data = f.read()
        tmp = dst + ".new"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dst)


def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def served_cert(port):
    """DER of the certificate a fresh TLS connection is given."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with no_verify().wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.getpeercert(binary_form=True)


def wait_log(srv, text, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.stderr_text():
            return True
        time.sleep(0.05)
    return False


class Call(threading.Thread):
    """One paced wss call of n frames in its own thread and event loop."""

    def __init__(self, srv, n, seed):
        super().__init__(daemon=True)
        self.srv, self.n, self.seed = srv, n, seed
        self.echoes, self.error = [], None

    def run(self):
        try:
            asyncio.run(asyncio.wait_for(self.call(), 60))
        except BaseException as e:   # reported by the test
            self.error = e

    async def call(self):
        ws = await websockets.connect(self.srv.ws_base + "/socket",
                                      extra_headers=[bearer(self.srv.secret)], ssl=no_verify(),
                                      ping_interval=None, open_timeout=5, close_timeout=2)

        async def reader():
            while len(self.echoes) < self.n:
                m = await ws.recv()
                if isinstance(m, bytes):
                    self.echoes.append(m)

        async def sender():
            await ws.send(connected_msg("reload-call"))
            t0 = time.monotonic()
            for i in range(self.n):
                delay = t0 + i * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await ws.send(frame(i, self.seed))

        await asyncio.gather(sender(), reader())
        await ws.close()


class TlsReload(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = os.path.join(tmp_root(), "reload")
        os.makedirs(cls.dir, exist_ok=True)
        cls.old = make_pair(cls.dir, "old", "caller-echo-old")
        cls.new = make_pair(cls.dir, "new", "caller-echo-new")

    def served_files(self, tag):
        """Fresh paths holding the old pair, as the server's --tls-cert/--tls-key."""
        live = (os.path.join(self.dir, tag + ".crt"), os.path.join(self.dir, tag + ".key"))
        install(self.old, live)
        return live

    def start(self, live, loop="libev"):
        return Server(tls=True, args=["--tls-cert", live[0], "--tls-key", live[1],
                                      "--event-loop", loop])

    def test_call_across_reload(self):
        live = self.served_files("call")
        with self.start(live) as srv:
            self.assertEqual(served_cert(srv.port), der_of(self.old[0]))
            n = 150   # 3 s of audio; the reload happens around frame 50
            call = Call(srv, n, seed=7)
            call.start()
            deadline = time.monotonic() + 10
            while len(call.echoes) < 50 and call.is_alive() and time.monotonic() < deadline:
                time.sleep(0.01)
            self.assertGreaterEqual(len(call.echoes), 50, "call did not get going: %r" % call.error)
            install(self.new, live)
            srv.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_log(srv, "TLS reload: new connections get"),
                            "no reload log line:\n" + srv.stderr_text())
            self.assertLess(len(call.echoes), n, "the call ended before the reload")
            self.assertEqual(served_cert(srv.port), der_of(self.new[0]))
            call.join(30)
            self.assertIsNone(call.error)
            self.assertEqual(len(call.echoes), n)
            for i, got in enumerate(call.echoes):
                self.assertEqual(got, frame(i, 7), "echo %d" % i)
            self.assertIn("CN = caller-echo-new", srv.stderr_text().replace("CN=", "CN = "))
            self.assertTrue(srv.running())
            self.assertEqual(srv.stop(), 0)

    def test_bad_files_keep_the_old_pair(self):
        live = self.served_files("bad")
        other = make_pair(self.dir, "rsa", "caller-echo-rsa", key="rsa")
        with self.start(live) as srv:
            old_der = der_of(self.old[0])
            cases = [
                ("garbage certificate", lambda: open(live[0], "w").write("not a certificate\n"),
                 "TLS reload: " + live[0]),
                ("key of another certificate",
                 lambda: install((self.new[0], self.old[1]), live), "key values mismatch"),
                ("RSA instead of EC", lambda: install(other, live), "another type"),
            ]
            for i, (what, damage, expect) in enumerate(cases):
                with self.subTest(what):
                    install(self.old, live)
                    damage()
                    srv.proc.send_signal(signal.SIGHUP)
                    deadline = time.monotonic() + 3
                    while srv.stderr_text().count("still serving the previous certificate") <= i \
                            and time.monotonic() < deadline:
                        time.sleep(0.05)
                    self.assertIn(expect, srv.stderr_text())
                    self.assertEqual(served_cert(srv.port), old_der)
            # and a good pair after all that is taken
            install(self.new, live)
            srv.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_log(srv, "TLS reload: new connections get"))
            self.assertEqual(served_cert(srv.port), der_of(self.new[0]))
            self.assertEqual(curl([srv.base + "/healthz"])[0], 200)

    def test_reload_on_each_event_loop(self):
        for loop in ("poll", "libuv"):
            with self.subTest(loop):
                live = self.served_files("loop-" + loop)
                with self.start(live, loop) as srv:
                    self.assertIn("%s loop" % loop, srv.stderr_text())
                    install(self.new, live)
                    srv.proc.send_signal(signal.SIGHUP)
                    self.assertTrue(wait_log(srv, "TLS reload: new connections get"),
                                    srv.stderr_text())
                    self.assertEqual(served_cert(srv.port), der_of(self.new[0]))
                    self.assertTrue(srv.running())
                    self.assertEqual(srv.stop(), 0)

    def test_reload_serves_the_new_chain(self):
        # the intermediate must go out with the leaf, or a client trusting the root fails
        d = os.path.join(self.dir, "chain")
        os.makedirs(d, exist_ok=True)
        root, chain, key = make_chain(d)
        live = self.served_files("chained")
        with self.start(live) as srv:
            self.assertFalse(verifies_with(srv.port, root))
            install((chain, key), live)
            srv.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_log(srv, "TLS reload: new connections get"), srv.stderr_text())
            self.assertTrue(verifies_with(srv.port, root))
            # and without the intermediate in the file the same client fails
            install((os.path.join(d, "leaf.crt"), key), live)
            srv.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 3
            while srv.stderr_text().count("TLS reload: new connections get") < 2 and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertFalse(verifies_with(srv.port, root))

    def test_sighup_without_tls(self):
        with Server() as srv:
            srv.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_log(srv, "no TLS configured"), srv.stderr_text())
            self.assertEqual(curl([srv.base + "/healthz"])[0], 200)
            self.assertTrue(srv.running())


if __name__ == "__main__":
    unittest.main()
