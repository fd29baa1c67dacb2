"""
test_sim.py -- build/caller-sim against the real build/caller-echo.

Calls go through the answer webhook the way Vonage places them; every frame
must come back bit-exact and the server's /stats.json must count exactly
what the simulator says it sent. The documented failures are checked by
exit status and message: a bad NCCO (served by a stub webhook in this
file) exits 3 naming the fault, a wrong secret exits 4 with the server's
401, a WAV in the wrong format exits 2. --record (playback on) must give
back the input WAV sample for sample, one playout tick late. Playback
against the echo server: the scripted caller's talk and pause frames come
back as sent, delay=0 is what an echo is, and delay/parrot checks fail an
echo with their reason. Calls are short (0.5-2 s): the whole file runs in
about 25 s.
"""
import http.server
import json
import os
import random
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import wave

from harness import REPO, Server, clean_env, curl, free_port, skip_under, stats, tls_pair, tmp_root

SIM = os.environ.get("CALLER_SIM_BIN") or os.path.join(REPO, "build", "caller-sim")
SIM_ENV = ("VONAGE_SIGNATURE_SECRET", "VONAGE_SIGNATURE_SECRET_FILE", "VONAGE_APPLICATION_ID")

EXIT_PASS, EXIT_LOSS, EXIT_USAGE, EXIT_NCCO, EXIT_CONNECT = 0, 1, 2, 3, 4


def run_sim(args, secret=None, timeout=40):
    """Run caller-sim; returns (exit status, stdout text, stderr text)."""
    env = {k: v for k, v in clean_env().items() if k not in SIM_ENV}
    if secret is not None:
        # the environment, not argv: a secret on the command line shows in ps
        env["VONAGE_SIGNATURE_SECRET"] = secret.decode() if isinstance(secret, bytes) else secret
    p = subprocess.run([SIM] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, env=env, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_json(testcase, args, secret, want_exit=EXIT_PASS):
    rc, out, err = run_sim(["--json"] + list(args), secret)
    testcase.assertEqual(rc, want_exit, "caller-sim exit %d, stderr:\n%s\nstdout:\n%s" % (rc, err, out))
    lines = out.splitlines()
    testcase.assertEqual(len(lines), 1, "--json prints one line: %r" % out[:500])
    return json.loads(lines[0])


def write_wav(path, rate, seconds, channels=1, seed=1):
    """Random 16-bit samples: any corruption of any byte shows."""
    rnd = random.Random(seed)
    n = int(rate * seconds) * channels * 2
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(rnd.getrandbits(8) for _ in range(n)))


class StubWebhook:
    """A tiny answer webhook that replies with a fixed status and body, and
    remembers what it was asked (path, query, JSON body)."""

    def __init__(self, body, status=200, chunked=False):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.status = status
        self.chunked = chunked
        self.requests = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _reply(self, payload):
                stub.requests.append((self.command, self.path, payload))
                self.send_response(stub.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                if stub.chunked:   # in pieces of 7 bytes, as some frameworks stream
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for i in range(0, len(stub.body), 7):
                        piece = stub.body[i:i + 7]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(stub.body)))
                self.end_headers()
                self.wfile.write(stub.body)

            def do_GET(self):
                self._reply(None)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                self._reply(self.rfile.read(n))

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/answer" % self.httpd.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        return False


def heard_in_order(heard, sent, extra_silence=4):
    """How many of the frames sent were heard, in order, allowing a few extra
    silent ticks anywhere (the first tick, an echo late by a tick)."""
    i = extra = 0
    for f in heard:
        if i < len(sent) and f == sent[i]:
            i += 1
        elif f == bytes(len(f)) and extra < extra_silence:
            extra += 1
        else:
            break
    return i


def answer_url(srv):
    return srv.base + "/webhooks/answer"


def connect_ncco(endpoint):
    return json.dumps([{"action": "talk", "text": "hi"}, {"action": "connect", "endpoint": [endpoint]}])


class SimAgainstServer(unittest.TestCase):
    def test_three_calls_every_frame_echoed_and_counted_by_the_server(self):
        with Server() as srv:
            j = run_json(self, ["--calls", "3", "--duration", "2", "--ramp", "20", "--dtmf", "1#",
                                answer_url(srv)], srv.secret)
            self.assertEqual((j["calls"], j["connected"], j["done"], j["failed"]), (3, 3, 3, 0))
            self.assertEqual(j["content_type"], "audio/l16;rate=24000")
            self.assertEqual(j["frame_bytes"], 960)
            self.assertEqual(j["sent"], 3 * 100)            # 2 s of 20 ms frames per call
            self.assertEqual(j["echoed"], j["sent"])
            self.assertEqual((j["lost"], j["mismatched"], j["stalled"]), (0, 0, 0))
            self.assertEqual(j["dtmf_sent"], 6)
            self.assertGreater(j["rtt_ms"]["max"], 0)
            self.assertEqual(len(j["per_call"]), 3)
            # plain echo load: no playback (small memory), nothing heard, the echo check
            self.assertEqual((j["expect"], j["playback_buffer"], j["heard"], j["check_failed"]), ("echo", 0, 0, 0))
            self.assertEqual(j["per_call"][0]["check"], "ok")

            # the server's own counters agree, frame for frame and byte for byte
            deadline = time.monotonic() + 2
            s = stats(srv)
            while s["totals"]["connections_open"] and time.monotonic() < deadline:
                time.sleep(0.05)
                s = stats(srv)
            t = s["totals"]
            self.assertEqual(t["packets_received"], j["sent"])
            self.assertEqual(t["bytes_received"], j["sent"] * 960)
            self.assertEqual(t["packets_sent"], j["echoed"])
            self.assertEqual(t["frames_dropped"], 0)
            self.assertEqual((t["connections_total"], t["connections_open"]), (3, 0))
            self.assertEqual(sum(s["rejected"].values()), 0)
            # websocket:connected carried the NCCO headers (uuid) and DTMF reached the server
            log = srv.stderr_text()
            for c in j["per_call"]:
                self.assertIn("connected, uuid %s, audio/l16;rate=24000" % c["uuid"], log)
            self.assertEqual(log.count("DTMF 1"), 3)
            self.assertEqual(log.count("DTMF #"), 3)

    def test_answer_method_post_at_16khz(self):
        with Server(args=["--rate", "16000"]) as srv:
            j = run_json(self, ["--answer-method", "POST", "--duration", "1", answer_url(srv)], srv.secret)
            self.assertEqual(j["method"], "POST")
            self.assertEqual(j["content_type"], "audio/l16;rate=16000")
            self.assertEqual(j["frame_bytes"], 640)
            self.assertEqual((j["sent"], j["echoed"], j["lost"], j["mismatched"]), (50, 50, 0, 0))
            self.assertEqual(stats(srv)["totals"]["bytes_received"], 50 * 640)

    def test_flood_keeps_frames_in_flight_without_loss(self):
        with Server(args=["--max-msg-rate", "0"]) as srv:   # a flood is the point here
            j = run_json(self, ["--flood", "4", "--calls", "2", "--duration", "1", answer_url(srv)], srv.secret)
            self.assertEqual(j["flood"], 4)
            self.assertGreater(j["sent"], 2 * 50)            # not paced: far more than real time
            self.assertEqual(j["echoed"], j["sent"])
            self.assertEqual((j["lost"], j["mismatched"]), (0, 0))
            self.assertEqual(stats(srv)["totals"]["packets_received"], j["sent"])

    def test_wrong_secret_is_refused_with_401_and_exit_4(self):
        with Server() as srv:
            rc, out, err = run_sim(["--duration", "1", answer_url(srv)], secret="not-the-secret")
            self.assertEqual(rc, EXIT_CONNECT, err)
            self.assertIn("call 1: handshake refused: HTTP 401 Unauthorized", err)
            self.assertIn("FAIL (exit 4)", out)
            s = stats(srv)
            self.assertEqual(s["rejected"]["bad_signature"], 1)
            self.assertEqual(s["totals"]["connections_total"], 0)

    def test_same_secret_file_works_for_server_and_sim(self):
        # regression: the sim once stripped every trailing newline while the
        # server drops only one line ending, so this file gave a 401
        secret = b"secret-with-a-crlf-and-a-blank-line-0123456789\r\n\n"
        with Server(secret=secret) as srv:
            path = os.path.join(srv._dir, "secret")
            j = run_json(self, ["--secret-file", path, "--duration", "0.5", answer_url(srv)], None)
            self.assertEqual(j["lost"], 0)
            self.assertGreater(j["echoed"], 0)

    def test_server_going_away_mid_call_fails_the_call(self):
        with Server() as srv:
            p = subprocess.Popen([SIM, "--json", "--duration", "5", answer_url(srv)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 env=dict(clean_env(), VONAGE_SIGNATURE_SECRET=srv.secret.decode()))
            deadline = time.monotonic() + 3
            while not stats(srv)["totals"]["packets_received"] and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertEqual(srv.stop(), 0)
            out, err = p.communicate(timeout=10)
            self.assertEqual(p.returncode, EXIT_CONNECT, err)
            self.assertIn(b"server closed the WebSocket during the call with 1001", err)
            j = json.loads(out)
            self.assertEqual(j["per_call"][0]["close_code"], 1001)

    def test_record_gives_back_the_input_wav(self):
        """--record writes what the caller hears, one frame per playout tick:
        the echo of frame k is heard at the tick after it was sent, so the
        recording is the input, sample for sample, behind a tick of silence
        (more silence only where an echo was late by a tick: a few on a
        loaded machine, such as make test running the ASan suite beside this)."""
        d = tempfile.mkdtemp(prefix="sim-", dir=tmp_root())
        src, rec = os.path.join(d, "in.wav"), os.path.join(d, "out.wav")
        write_wav(src, 24000, 1.0)
        with Server() as srv:
            j = run_json(self, ["--wav", src, "--record", rec, answer_url(srv)], srv.secret)
        self.assertEqual(j["duration_s"], 1.0)               # default duration: the WAV's length
        self.assertEqual((j["sent"], j["echoed"]), (50, 50))
        self.assertEqual((j["playback_buffer"], j["heard"], j["heard_other"]), (3072, 50, 0))
        with wave.open(src) as a, wave.open(rec) as b:
            self.assertEqual(b.getparams()[:3], a.getparams()[:3])
            want = a.readframes(a.getnframes() + 1)
            got = b.readframes(b.getnframes() + 1)
        frames = [got[i:i + 960] for i in range(0, len(got), 960)]
        self.assertEqual(len(frames), j["heard"] + j["silence"])   # one frame per tick
        silent = [f == bytes(960) for f in frames]
        self.assertTrue(silent[0], "the first tick hears nothing yet")
        self.assertLessEqual(sum(silent), 8)
        self.assertEqual(b"".join(f for f, z in zip(frames, silent) if not z), want)

    def test_talk_pause_echo_is_heard_as_sent(self):
        """--talk/--pause against the echo server: the default echo check
        passes, talk frames carry the source at their sequence number and
        pause frames are zeros (the stamp is put back in the recording)."""
        d = tempfile.mkdtemp(prefix="sim-", dir=tmp_root())
        src, rec = os.path.join(d, "in.wav"), os.path.join(d, "out.wav")
        write_wav(src, 24000, 2.0, seed=3)
        with Server() as srv:
            j = run_json(self, ["--wav", src, "--expect", "echo", "--talk", "200", "--pause", "200",
                                "--record", rec, answer_url(srv)], srv.secret)
            self.assertEqual(stats(srv)["totals"]["packets_received"], 100)
        self.assertEqual((j["sent"], j["echoed"], j["lost"], j["mismatched"]), (100, 100, 0, 0))
        self.assertEqual((j["heard"], j["heard_other"], j["bad_commands"], j["check_failed"]), (100, 0, 0, 0))
        self.assertEqual(j["per_call"][0]["check"], "ok")
        with wave.open(src) as a, wave.open(rec) as b:
            want = a.readframes(a.getnframes() + 1)
            got = b.readframes(b.getnframes() + 1)
        frames = [got[i:i + 960] for i in range(0, len(got), 960)]
        self.assertEqual(frames[0], bytes(960), "the first tick hears nothing yet")
        sent = [want[k * 960:(k + 1) * 960] if (k // 10) % 2 == 0 else bytes(960)   # 10 talk, 10 pause
                for k in range(100)]
        self.assertEqual(heard_in_order(frames, sent), 100)

    @skip_under("asan", reason="time-bound: judges caller-sim's checks, which time each echo to 20 ms; the "
                "sanitizer build, run beside the plain suite, can stall longer. test_apps runs the delay and "
                "parrot apps under ASan")
    def test_delay_and_parrot_checks_judge_an_echo(self):
        """An echo is delay=0; judged as delay=200 or as a parrot it fails,
        exit 1, with the first fault as the call's check."""
        with Server() as srv:
            j = run_json(self, ["--duration", "1", "--expect", "delay=0", answer_url(srv)], srv.secret)
            self.assertEqual((j["expect"], j["heard"], j["check_failed"], j["exit"]), ("delay=0", 50, 0, 0))
            j = run_json(self, ["--duration", "1", "--expect", "delay=200", answer_url(srv)], srv.secret,
                         want_exit=EXIT_LOSS)
            self.assertEqual(j["check_failed"], 1)
            self.assertRegex(j["per_call"][0]["check"],
                             r"^frame 0 heard (20|40) ms after it was sent; delay=200 allows 180 < ms <= 240 \(\+\d+ more\)$")
            self.assertEqual(j["lost"], 0)                   # the ledger counts, it does not judge
            j = run_json(self, ["--duration", "1", "--expect", "parrot", "--talk", "200", "--pause", "200",
                                answer_url(srv)], srv.secret, want_exit=EXIT_LOSS)
            self.assertIn("talk burst 1: frame 0 heard while the caller was still talking",
                          j["per_call"][0]["check"])
            rc, out, err = run_sim(["--duration", "1", "--expect", "delay=200", answer_url(srv)], srv.secret)
            self.assertEqual(rc, EXIT_LOSS)
            self.assertIn("FAIL (exit 1): 1 call failed the delay=200 check", out)
            self.assertIn("frame 0 heard", out)

    def test_wav_at_the_wrong_rate_is_a_usage_error(self):
        d = tempfile.mkdtemp(prefix="sim-", dir=tmp_root())
        src = os.path.join(d, "16k.wav")
        stereo = os.path.join(d, "stereo.wav")
        write_wav(src, 16000, 0.2)
        write_wav(stereo, 24000, 0.2, channels=2)
        with Server() as srv:
            rc, out, err = run_sim(["--wav", src, answer_url(srv)], srv.secret)
            self.assertEqual(rc, EXIT_USAGE, err)
            self.assertIn("16k.wav: WAV has 16000 Hz; a call at this rate needs mono 16-bit PCM at 24000 Hz", err)
            rc, out, err = run_sim(["--wav", stereo, answer_url(srv)], srv.secret)
            self.assertEqual(rc, EXIT_USAGE, err)
            self.assertIn("stereo.wav: WAV has 2 channels", err)
            self.assertEqual(stats(srv)["totals"]["connections_total"], 0)   # refused before dialling

    def test_wss_verified_with_cafile_and_refused_without(self):
        cert, _ = tls_pair()
        with Server(tls=True) as srv:
            j = run_json(self, ["--cafile", cert, "--duration", "0.5", answer_url(srv)], srv.secret)
            self.assertTrue(j["ws_uri"].startswith("wss://127.0.0.1:"))
            self.assertEqual((j["sent"], j["echoed"], j["lost"]), (25, 25, 0))
            rc, out, err = run_sim(["--duration", "0.5", "--ws-url", srv.ws_base + "/socket"], srv.secret)
            self.assertEqual(rc, EXIT_CONNECT, err)
            self.assertIn("certificate refused: self-signed certificate", err)
            j = run_json(self, ["--insecure", "--duration", "0.5", "--ws-url", srv.ws_base + "/socket"], srv.secret)
            self.assertEqual(j["echoed"], 25)


class SimAnswerWebhook(unittest.TestCase):
    """What caller-sim asks the webhook, and how it refuses what comes back."""

    TALK_ONLY = json.dumps([{"action": "talk", "text": "hello"}])

    def test_get_and_post_carry_vonage_call_fields(self):
        with StubWebhook(self.TALK_ONLY) as hook:
            run_sim(["--to", "447700900123", hook.url])
            run_sim(["--answer-method", "POST", "--from", "447700900456", hook.url])
        (m1, path, _), (m2, path2, body) = hook.requests
        self.assertEqual((m1, m2), ("GET", "POST"))
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        self.assertEqual(sorted(q), ["conversation_uuid", "from", "to", "uuid"])
        self.assertEqual(q["to"], ["447700900123"])
        self.assertRegex(q["uuid"][0], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertTrue(q["conversation_uuid"][0].startswith("CON-"))
        self.assertEqual(path2, "/answer")
        b = json.loads(body)
        self.assertEqual(sorted(b), ["conversation_uuid", "from", "to", "uuid"])
        self.assertEqual(b["from"], "447700900456")

    def test_bad_ncco_exits_3_naming_the_fault(self):
        ws = {"type": "websocket", "uri": "ws://127.0.0.1:9/socket", "content-type": "audio/l16;rate=24000"}
        cases = [
            (self.TALK_ONLY, 200, "NCCO has no connect action (1 action: talk only)"),
            (connect_ncco({"type": "phone", "number": "447700900000"}), 200,
             'connect action: endpoint type is "phone", not "websocket"'),
            (connect_ncco(dict(ws, **{"content-type": "audio/l16;rate=44100"})), 200,
             'content-type "audio/l16;rate=44100" is not audio/l16;rate=8000, 16000 or 24000'),
            (connect_ncco(dict(ws, uri="http://127.0.0.1:9/socket")), 200, "is not ws:// or wss://"),
            (json.dumps({"action": "connect"}), 200, "NCCO is an object, not a JSON array of actions"),
            ("<html>oops</html>", 200, "NCCO is not valid JSON"),
            (connect_ncco(ws), 500, "returned HTTP 500"),
        ]
        for body, status, want in cases:
            with self.subTest(want=want), StubWebhook(body, status) as hook:
                rc, out, err = run_sim(["--duration", "1", hook.url], secret="s")
                self.assertEqual(rc, EXIT_NCCO, err)
                self.assertIn(want, err)
                self.assertIn(hook.url, err)
                self.assertEqual(out, "")

    def test_http_edges(self):
        """The answer request is libcurl's: a chunked reply is read whole, a
        reply too big for the NCCO buffer, a refused connection and a server
        that never answers are each a clear exit 3."""
        with Server() as srv:
            ncco = curl([srv.base + "/webhooks/answer"])[2]
            with StubWebhook(ncco, chunked=True) as hook:
                j = run_json(self, ["--duration", "1", hook.url], srv.secret)
                self.assertEqual((j["connected"], j["sent"], j["echoed"], j["lost"]), (1, 50, 50, 0))
        with StubWebhook(b"[" + b" " * 200000 + b"]") as hook:
            rc, out, err = run_sim(["--duration", "1", hook.url])
            self.assertEqual(rc, EXIT_NCCO, err)
            self.assertIn("reply body over", err)
        port = free_port()
        rc, out, err = run_sim(["--duration", "1", "http://127.0.0.1:%d/answer" % port])
        self.assertEqual(rc, EXIT_NCCO, err)
        self.assertRegex(err, "(?i)connect")
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)   # accepts, never answers
        try:
            t0 = time.monotonic()
            rc, out, err = run_sim(["--duration", "1", "--http-timeout", "500",
                                    "http://127.0.0.1:%d/answer" % silent.getsockname()[1]])
            self.assertEqual(rc, EXIT_NCCO, err)
            self.assertRegex(err, "(?i)timed? ?out")
            self.assertLess(time.monotonic() - t0, 5)
        finally:
            silent.close()

    def test_print_token_is_accepted_by_the_server(self):
        """caller-sim --print-token: the one token minter (the secret from the
        environment, never argv), accepted once by the real server."""
        with Server() as srv:
            env = {k: v for k, v in clean_env().items() if k not in SIM_ENV}
            env["VONAGE_SIGNATURE_SECRET"] = srv.secret.decode()
            p = subprocess.run([SIM, "--print-token"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=10)
            self.assertEqual(p.returncode, 0, p.stderr)
            tok = p.stdout.decode().strip()
            self.assertRegex(tok, r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
            from attack import upgrade
            self.assertEqual(upgrade(srv, "127.0.0.2", token=tok)[0], 101)
            self.assertEqual(upgrade(srv, "127.0.0.2", token=tok)[0], 401)   # one use
            p = subprocess.run([SIM, "--print-token"], env={k: v for k, v in env.items()
                                                            if k != "VONAGE_SIGNATURE_SECRET"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
            self.assertEqual(p.returncode, EXIT_USAGE)
            self.assertIn(b"--print-token", p.stderr)

    def test_vonage_authorization_without_a_secret_is_a_usage_error(self):
        ws = {"type": "websocket", "uri": "ws://127.0.0.1:9/socket", "content-type": "audio/l16;rate=8000",
              "authorization": {"type": "vonage"}}
        with StubWebhook(connect_ncco(ws)) as hook:
            rc, out, err = run_sim(["--duration", "1", hook.url])
        self.assertEqual(rc, EXIT_USAGE, err)
        self.assertIn("give the signature secret", err)

    def test_usage_errors_exit_2(self):
        for args, want in [([], "give an answer URL or --ws-url"),
                           (["--calls", "0", "http://h/"], "--calls '0'"),
                           (["--flood", "65", "http://h/"], "--flood '65'"),
                           (["--dtmf", "12x", "http://h/"], "--dtmf '12x'"),
                           (["--calls", "2", "--record", "x.wav", "http://h/"], "--record records one call"),
                           (["--playback-buffer", "0", "http://h/"], "--playback-buffer '0'"),
                           (["--playback-buffer", "65537", "http://h/"], "--playback-buffer '65537'"),
                           (["--playback-buffer", "x", "http://h/"], "--playback-buffer 'x'"),
                           (["--expect", "delay=", "http://h/"], "--expect 'delay='"),
                           (["--expect", "delay=60001", "http://h/"], "--expect 'delay=60001'"),
                           (["--expect", "talker", "http://h/"], "--expect 'talker'"),
                           (["--talk", "19", "--pause", "100", "http://h/"], "--talk '19'"),
                           (["--talk", "100", "http://h/"], "--talk and --pause go together"),
                           (["--expect", "parrot", "http://h/"], "--expect parrot needs --talk"),
                           (["--barge-in", "100", "http://h/"], "--barge-in needs --talk"),
                           (["--barge-in", "-5", "--talk", "100", "--pause", "100", "http://h/"], "--barge-in '-5'"),
                           (["--flood", "2", "--playback-buffer", "1024", "http://h/"], "--flood cannot be used"),
                           (["--bogus", "http://h/"], "unknown option")]:
            with self.subTest(args=args):
                rc, out, err = run_sim(args)
                self.assertEqual(rc, EXIT_USAGE, err)
                self.assertIn(want, err)
        rc, out, err = run_sim(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("Exit status:", out)
        for opt in ("--playback-buffer N", "--expect APP", "--talk MS", "--pause MS", "--barge-in MS",
                    "websocket:cleared", "Twilio"):
            self.assertIn(opt, out)


if __name__ == "__main__":
    unittest.main()
