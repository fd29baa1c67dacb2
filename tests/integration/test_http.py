"""
test_http.py -- every HTTP route and error status of docs/behaviour.md,
checked byte for byte with the real curl against the real binary.
"""
import json
import subprocess
import time
import unittest

from harness import Server, curl, curl_full, raw_http, stats, tls_pair, free_port

DEFAULT_TALK = "Connecting you to the echo server. You will hear yourself."
JSON_HDR = ["-H", "Content-Type: application/json"]
CALL = {"to": "447700900000", "from": "447700900001",
        "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356",
        "conversation_uuid": "CON-f972836a-550f-45fa-956c-12a2ab5b7d22"}


def ncco(uri, rate=24000, talk=DEFAULT_TALK, number=None, uuid=None, call_from=None, to=None):
    """The exact body behaviour.md prescribes (no whitespace, fixed key order)."""
    actions = []
    if talk:
        actions.append({"action": "talk", "text": talk})
    connect = {"action": "connect"}
    if number:
        connect["from"] = number
    headers = {}
    if uuid:
        headers["uuid"] = uuid
    if call_from:
        headers["from"] = call_from
    if to:
        headers["to"] = to
    connect["endpoint"] = [{"type": "websocket", "uri": uri,
                            "content-type": "audio/l16;rate=%d" % rate,
                            "headers": headers, "authorization": {"type": "vonage"}}]
    actions.append(connect)
    return json.dumps(actions, separators=(",", ":"), ensure_ascii=False).encode()


def call_ncco(uri, **kw):
    return ncco(uri, uuid=CALL["uuid"], call_from=CALL["from"], to=CALL["to"], **kw)


def query(d):
    return "&".join("%s=%s" % kv for kv in d.items())


class HttpCase(unittest.TestCase):
    """Shared helpers: exact-status assertions with useful messages."""

    def assertStatus(self, got, want, what):
        status, headers, body = got
        self.assertEqual(status, want, "%s: want %d, got %d; body %r" % (what, want, status, body[:300]))

    def assertJsonBody(self, got, want_body, what):
        status, headers, body = got
        self.assertStatus(got, 200, what)
        self.assertEqual(headers.get("content-type"), "application/json", what + ": Content-Type")
        self.assertEqual(body, want_body, what + ": body")
        if "content-length" in headers:
            self.assertEqual(int(headers["content-length"]), len(body), what + ": Content-Length")


class AnswerDefaults(HttpCase):
    """Answer webhook with no options: HOST comes from the Host header."""

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.url = cls.srv.base + "/webhooks/answer"
        cls.local_uri = "ws://127.0.0.1:%d/socket" % cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()

    def test_get_all_four_params(self):
        got = curl([self.url + "?" + query(CALL)])
        self.assertJsonBody(got, call_ncco(self.local_uri), "GET answer")

    def test_get_param_order_irrelevant(self):
        q = "conversation_uuid=%s&uuid=%s&to=%s&from=%s" % (
            CALL["conversation_uuid"], CALL["uuid"], CALL["to"], CALL["from"])
        got = curl([self.url + "?" + q])
        self.assertJsonBody(got, call_ncco(self.local_uri), "GET answer reordered")

    def test_get_no_params_omits_header_keys(self):
        got = curl([self.url])
        self.assertJsonBody(got, ncco(self.local_uri), "GET answer without params")

    def test_get_some_params(self):
        got = curl([self.url + "?uuid=only-uuid&to=447700900000"])
        self.assertJsonBody(got, ncco(self.local_uri, uuid="only-uuid", to="447700900000"),
                            "GET answer uuid+to")

    def test_get_empty_param_omitted(self):
        got = curl([self.url + "?uuid=u-1&from=&to=447700900000"])
        self.assertJsonBody(got, ncco(self.local_uri, uuid="u-1", to="447700900000"),
                            "GET answer with empty from")

    def test_post_json(self):
        got = curl(["-X", "POST", "--data-binary", json.dumps(CALL)] + JSON_HDR + [self.url])
        self.assertJsonBody(got, call_ncco(self.local_uri), "POST answer")

    def test_post_json_extra_keys(self):
        body = dict(CALL, region_url="https://api-eu-1.nexmo.com", endpoint_type="phone",
                    custom_data={"a": [1, 2]})
        got = curl(["--data-binary", json.dumps(body)] + JSON_HDR + [self.url])
        self.assertJsonBody(got, call_ncco(self.local_uri), "POST answer with extra keys")

    def test_post_json_partial(self):
        got = curl(["--data-binary", json.dumps({"uuid": "p-1"})] + JSON_HDR + [self.url])
        self.assertJsonBody(got, ncco(self.local_uri, uuid="p-1"), "POST answer uuid only")

    def test_post_malformed_json_400(self):
        for body in ('{"to": "4477', "not json", '{"to":"1",}', '{"to":"1"}}', '{"to":"1"} x'):
            with self.subTest(body=body):
                got = curl(["--data-binary", body] + JSON_HDR + [self.url])
                self.assertStatus(got, 400, "POST answer %r" % body)

    def test_x_forwarded_proto_https_gives_wss(self):
        got = curl(["-H", "X-Forwarded-Proto: https", self.url + "?" + query(CALL)])
        self.assertJsonBody(got, call_ncco("wss://127.0.0.1:%d/socket" % self.srv.port),
                            "GET answer behind https proxy")

    def test_x_forwarded_proto_http_gives_ws(self):
        got = curl(["-H", "X-Forwarded-Proto: http", self.url + "?" + query(CALL)])
        self.assertJsonBody(got, call_ncco(self.local_uri), "GET answer X-Forwarded-Proto http")

    def test_host_header_is_used(self):
        cases = {"echo.example.com": "ws://echo.example.com/socket",
                 "echo.example.com:8443": "ws://echo.example.com:8443/socket",
                 "10.1.2.3:80": "ws://10.1.2.3:80/socket",
                 "[::1]:8080": "ws://[::1]:8080/socket",
                 "[2001:db8::1]": "ws://[2001:db8::1]/socket"}
        for host, uri in cases.items():
            with self.subTest(host=host):
                got = curl(["-H", "Host: " + host, self.url + "?" + query(CALL)])
                self.assertJsonBody(got, call_ncco(uri), "Host %r" % host)

    def test_host_header_with_proxy_https(self):
        got = curl(["-H", "Host: echo.example.com", "-H", "X-Forwarded-Proto: https",
                    self.url + "?" + query(CALL)])
        self.assertJsonBody(got, call_ncco("wss://echo.example.com/socket"), "Host + XFP https")

    def test_malformed_host_400(self):
        for host in ("evil.com/x", "a b", "evil.com:x", "evil.com:70000", 'ev"il.com',
                     "evil.com?x=1", "evil.com#f", "user@evil.com", "[zz]:80", "-evil.com",
                     "evil..com", "evil.com:"):
            with self.subTest(host=host):
                got = curl(["-H", "Host: " + host, self.url + "?" + query(CALL)])
                self.assertStatus(got, 400, "Host %r" % host)
                got = curl(["-H", "Host: " + host, "--data-binary", json.dumps(CALL)] + JSON_HDR
                           + [self.url])
                self.assertStatus(got, 400, "POST with Host %r" % host)

    def test_missing_host_400(self):
        got = raw_http(self.srv, b"GET /webhooks/answer?uuid=x HTTP/1.0\r\n\r\n")
        self.assertStatus(got, 400, "HTTP/1.0 answer without Host")

    def test_wrong_method_405(self):
        for method in ("PUT", "DELETE", "PATCH"):
            with self.subTest(method=method):
                got = curl(["-X", method, self.url])
                self.assertStatus(got, 405, method + " /webhooks/answer")

    def test_zz_still_serving(self):
        self.assertTrue(self.srv.running(), "server died; stderr:\n" + self.srv.stderr_text())
        status, _, body = curl([self.srv.base + "/healthz"])
        self.assertEqual((status, body), (200, b"ok\n"))


class AnswerOptions(HttpCase):
    """Options that change the NCCO, as flags and as environment variables."""

    def answer(self, srv, extra=()):
        return curl(list(extra) + [srv.base + "/webhooks/answer?" + query(CALL)])

    def test_public_url_https(self):
        with Server(args=["--public-url", "https://echo.example.com"]) as srv:
            want = call_ncco("wss://echo.example.com/socket")
            self.assertJsonBody(self.answer(srv), want, "public-url https")
            # the public URL wins over Host and over X-Forwarded-Proto: http
            self.assertJsonBody(self.answer(srv, ["-H", "Host: other.example.org",
                                                  "-H", "X-Forwarded-Proto: http"]),
                                want, "public-url https with other Host")

    def test_public_url_http_with_port_and_path(self):
        with Server(args=["--public-url", "http://example.com:8443/echo"]) as srv:
            self.assertJsonBody(self.answer(srv), call_ncco("ws://example.com:8443/echo/socket"),
                                "public-url http with path")

    def test_public_url_http_with_x_forwarded_proto_https(self):
        # behaviour.md: SCHEME = wss if TLS, *or* X-Forwarded-Proto is https,
        # or --public-url is https.
        with Server(args=["--public-url", "http://example.com:8443/echo"]) as srv:
            self.assertJsonBody(self.answer(srv, ["-H", "X-Forwarded-Proto: https"]),
                                call_ncco("wss://example.com:8443/echo/socket"),
                                "public-url http + XFP https")

    def test_public_url_trailing_slash(self):
        with Server(args=["--public-url", "https://echo.example.com/"]) as srv:
            self.assertJsonBody(self.answer(srv), call_ncco("wss://echo.example.com/socket"),
                                "public-url with trailing slash")

    def test_talk_text_empty_omits_talk(self):
        with Server(args=["--talk-text", ""]) as srv:
            got = self.answer(srv)
            self.assertJsonBody(got, call_ncco("ws://127.0.0.1:%d/socket" % srv.port, talk=None),
                                "--talk-text ''")
            self.assertTrue(got[2].startswith(b'[{"action":"connect"'))

    def test_talk_text_is_json_escaped(self):
        text = 'Say "hi" \\ then / wait\tnow'
        with Server(args=["--talk-text", text]) as srv:
            self.assertJsonBody(self.answer(srv),
                                call_ncco("ws://127.0.0.1:%d/socket" % srv.port, talk=text),
                                "--talk-text with quotes")

    def test_rate_16000_and_8000(self):
        for rate in (16000, 8000):
            with self.subTest(rate=rate), Server(args=["--rate", str(rate)]) as srv:
                self.assertJsonBody(self.answer(srv),
                                    call_ncco("ws://127.0.0.1:%d/socket" % srv.port, rate=rate),
                                    "--rate %d" % rate)

    def test_from_number(self):
        with Server(args=["--from-number", "447700900123"]) as srv:
            self.assertJsonBody(self.answer(srv),
                                call_ncco("ws://127.0.0.1:%d/socket" % srv.port,
                                          number="447700900123"),
                                "--from-number")

    def test_environment_variables(self):
        env = {"AUDIO_RATE": "8000", "VONAGE_VIRTUAL_NUMBER": "15550001111",
               "TALK_TEXT": "env talk", "PUBLIC_URL": "https://env.example.com"}
        with Server(env=env) as srv:
            self.assertJsonBody(self.answer(srv),
                                call_ncco("wss://env.example.com/socket", rate=8000,
                                          talk="env talk", number="15550001111"),
                                "configuration from the environment")

    def test_flags_override_environment(self):
        env = {"AUDIO_RATE": "8000", "VONAGE_VIRTUAL_NUMBER": "15550001111",
               "TALK_TEXT": "env talk", "PUBLIC_URL": "https://env.example.com"}
        args = ["--rate", "16000", "--from-number", "15550002222", "--talk-text", "flag talk",
                "--public-url", "http://flag.example.com"]
        with Server(args=args, env=env) as srv:
            self.assertJsonBody(self.answer(srv),
                                call_ncco("ws://flag.example.com/socket", rate=16000,
                                          talk="flag talk", number="15550002222"),
                                "flags over environment")


class Events(HttpCase):
    url = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()
        cls.url = cls.srv.base + "/webhooks/events"

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()

    def events_received(self):
        return stats(self.srv)["events_received"]

    def post(self, body, extra=()):
        return curl(["-H", "Expect:", "--data-binary", body] + JSON_HDR + list(extra) + [self.url])

    def test_post_event_204_and_counted(self):
        before = self.events_received()
        ev = dict(CALL, status="answered", direction="inbound", timestamp="2024-01-01T12:00:00.000Z")
        got = self.post(json.dumps(ev))
        self.assertStatus(got, 204, "POST event")
        self.assertEqual(got[2], b"", "204 has no body")
        self.assertEqual(self.events_received(), before + 1)
        for i in range(3):
            self.assertStatus(self.post(json.dumps({"status": "ringing", "uuid": "u%d" % i})), 204,
                              "POST event %d" % i)
        self.assertEqual(self.events_received(), before + 4)

    def test_get_event_204(self):
        got = curl([self.url + "?status=completed&uuid=" + CALL["uuid"]])
        self.assertStatus(got, 204, "GET event")
        self.assertEqual(got[2], b"")

    def test_malformed_400_not_counted(self):
        before = self.events_received()
        for body in ('{"status":', "hello", '{"a":1}}', "{'a':1}"):
            with self.subTest(body=body):
                self.assertStatus(self.post(body), 400, "POST event %r" % body)
        self.assertEqual(self.events_received(), before)

    def test_empty_body_400(self):
        got = raw_http(self.srv, b"POST /webhooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
        self.assertStatus(got, 400, "POST event with empty body")

    @staticmethod
    def padded(n):
        """A valid JSON event body of exactly n bytes."""
        base = '{"status":"answered","uuid":"x","pad":""}'
        body = base[:-2] + "a" * (n - len(base)) + '"}'
        assert len(body) == n
        return body

    def test_body_at_limit_accepted(self):
        before = self.events_received()
        self.assertStatus(self.post(self.padded(16384)), 204, "16384-byte event")
        self.assertEqual(self.events_received(), before + 1)

    def test_body_over_limit_400(self):
        before = self.events_received()
        self.assertStatus(self.post(self.padded(16385)), 400, "16385-byte event")
        self.assertStatus(self.post(self.padded(20000)), 400, "20000-byte event")
        self.assertEqual(self.events_received(), before)

    def test_declared_length_over_limit_refused_before_reading(self):
        # Headers only: the server must answer without waiting for 20000 bytes.
        t0 = time.monotonic()
        got = raw_http(self.srv, b"POST /webhooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: 20000\r\n\r\n",
                       timeout=3)
        self.assertStatus(got, 400, "Content-Length: 20000 without body")
        self.assertLess(time.monotonic() - t0, 2.5)

    def test_no_content_length_411(self):
        got = raw_http(self.srv, b"POST /webhooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/json\r\nConnection: close\r\n\r\n",
                       timeout=3)
        self.assertStatus(got, 411, "POST event without Content-Length")

    def test_chunked_without_content_length_411(self):
        got = raw_http(self.srv, b"POST /webhooks/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                 b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                                 b"Connection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                       timeout=3)
        self.assertStatus(got, 411, "chunked POST event")

    def test_wrong_method_405(self):
        for method in ("PUT", "DELETE"):
            with self.subTest(method=method):
                self.assertStatus(curl(["-X", method, self.url]), 405, method + " /webhooks/events")

    def test_zz_still_serving(self):
        self.assertTrue(self.srv.running(), "server died; stderr:\n" + self.srv.stderr_text())
        status, _, body = curl([self.srv.base + "/healthz"])
        self.assertEqual((status, body), (200, b"ok\n"))


STATS_KEYS = {"worker", "pid", "uptime_s", "connections", "totals", "rejected", "events_received",
              # issue 5: the operator's view
              "version", "started_at", "now", "rate", "history", "events_by_status",
              "recent_events", "closes",
              # issue 10: values cut in answer webhooks, the operator's actions and blocks
              "params_truncated", "admin",
              # issue 12: open calls by voice app
              "calls_by_app", "app_heap_bytes", "app_heap_max",
              # issue 13: the drain and where tokens are kept
              "draining", "replay_store",
              # issue 14: the open calls' quality, and which calls are listed
              "quality", "calls_view",
              # issue 15: the shared frame slots
              "frame_slots",
              # issue 19: what the defences did besides refusing
              "security"}
TOTALS_KEYS = {"packets_received", "bytes_received", "packets_sent", "bytes_sent", "frames_dropped",
               "connections_open", "connections_total", "clear_sent", "notify_sent", "cleared", "notified",
               "app_refused",
               # issue 19: log lines about calls their budgets left out
               "log_suppressed"}
REJECTED_KEYS = {"missing", "not_bearer", "malformed", "bad_alg", "bad_signature", "expired",
                 "not_yet_valid", "no_iat", "iat_too_old", "iat_in_future", "wrong_application",
                 "bad_issuer", "bad_path", "origin", "capacity", "shutting_down", "addr_calls", "addr_rate",
                 "addr_table_full", "addr_conns", "conns_full", "replay", "missing_jti", "replay_table_full", "msg_rate", "idle",
                 "webhook_auth", "payload_hash", "stats_access", "body_timeout", "subprotocol",
                 "missing_payload_hash", "transfer_encoding", "bad_close", "blocked", "admin_access",
                 "replay_store_down",
                 # issue 19: refused admin bodies and stats queries
                 "admin_bad_request", "stats_bad_query"}


class StatsHealthRouting(HttpCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()

    def test_healthz(self):
        status, headers, body = curl([self.srv.base + "/healthz"])
        self.assertEqual(status, 200)
        self.assertEqual(body, b"ok\n")

    def test_stats_html(self):
        status, headers, body = curl([self.srv.base + "/stats"])
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("content-type", "").split(";")[0].strip().lower(), "text/html")
        html = body.decode("utf-8")
        self.assertRegex(html, r'(?is)<meta[^>]+http-equiv\s*=\s*["\']?refresh', "meta refresh")
        # no external assets: nothing loaded from another origin
        self.assertNotRegex(html, r'(?i)(src|href|action)\s*=\s*["\']?\s*(https?:)?//')
        self.assertNotRegex(html, r'(?i)url\(\s*["\']?\s*(https?:)?//')
        self.assertNotRegex(html, r'(?i)@import')
        self.assertNotRegex(html, r'(?i)https?://')

    def test_stats_json_shape(self):
        status, headers, body = curl([self.srv.base + "/stats.json"])
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("content-type"), "application/json")
        d = json.loads(body)
        self.assertEqual(set(d), STATS_KEYS)
        self.assertEqual(set(d["totals"]), TOTALS_KEYS)
        self.assertEqual(set(d["rejected"]), REJECTED_KEYS)
        self.assertEqual(d["connections"], [])
        for k in ("uptime_s", "events_received"):
            self.assertIsInstance(d[k], int, k)
        for group in ("totals", "rejected"):
            for k, v in d[group].items():
                self.assertIsInstance(v, int, "%s.%s" % (group, k))
                self.assertGreaterEqual(v, 0)
        self.assertEqual(d["totals"]["connections_open"], 0)

    def test_uptime_advances(self):
        a = stats(self.srv)["uptime_s"]
        time.sleep(1.1)
        self.assertGreaterEqual(stats(self.srv)["uptime_s"], a + 1)

    def test_unknown_path_404(self):
        for path in ("/", "/nope", "/healthzx", "/healthz/x", "/webhooks", "/webhooks/answerx",
                     "/webhooks/event", "/stats.jsonx", "/nope?x=1", "/../etc/passwd"):
            with self.subTest(path=path):
                self.assertStatus(curl(["--path-as-is", self.srv.base + path]), 404, "GET " + path)

    def test_wrong_method_405(self):
        for method, path in (("DELETE", "/healthz"), ("POST", "/healthz"), ("PUT", "/webhooks/answer"),
                             ("DELETE", "/webhooks/answer"), ("PUT", "/webhooks/events"),
                             ("POST", "/stats"), ("DELETE", "/stats.json"), ("POST", "/stats.json")):
            with self.subTest(method=method, path=path):
                args = ["-X", method]
                if method in ("POST", "PUT"):
                    args += ["--data-binary", "{}"] + JSON_HDR
                self.assertStatus(curl(args + [self.srv.base + path]), 405, method + " " + path)

    def test_zz_still_serving(self):
        self.assertTrue(self.srv.running(), "server died; stderr:\n" + self.srv.stderr_text())
        status, _, body = curl([self.srv.base + "/healthz"])
        self.assertEqual((status, body), (200, b"ok\n"))


class Tls(HttpCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(tls=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.srv.kill()

    def test_https_answer_gives_wss(self):
        got = curl([self.srv.base + "/webhooks/answer?" + query(CALL)])
        self.assertJsonBody(got, call_ncco("wss://127.0.0.1:%d/socket" % self.srv.port),
                            "https answer")

    def test_https_healthz_and_verified_cert(self):
        cert, _ = tls_pair()
        rc, status, _, body, err = curl_full(["--cacert", cert, self.srv.base + "/healthz"])
        self.assertEqual((rc, status, body), (0, 200, b"ok\n"), err)

    def test_tls11_refused(self):
        rc, status, _, _, err = curl_full(["--tlsv1.1", "--tls-max", "1.1",
                                           self.srv.base + "/healthz"])
        self.assertNotEqual(rc, 0, "curl with TLS 1.1 succeeded")
        self.assertEqual(status, 0)

    def s_client(self, port, *opts):
        return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(opts),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=10)

    def test_tls11_refused_by_server_itself(self):
        # The client side of OpenSSL 3 refuses TLS 1.1 at the default security
        # level, so lower it and prove with a control server that the client
        # really can speak TLS 1.1; then the refusal can only be the server's.
        legacy = ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"]
        cert, key = tls_pair()
        port = free_port()
        ctl = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", cert,
                                "-key", key, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-naccept", "1",
                                "-quiet"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            ok = None
            for _ in range(100):
                r = self.s_client(port, *legacy)
                if b"Connection refused" not in r.stdout and b"connect:errno" not in r.stdout:
                    ok = r
                    break
                time.sleep(0.05)
        finally:
            ctl.kill()
            ctl.wait()
        if ok is None or ok.returncode != 0 or b"TLSv1.1" not in ok.stdout:
            self.skipTest("this OpenSSL cannot speak TLS 1.1 even as a client")
        r = self.s_client(self.srv.port, *legacy)
        self.assertNotEqual(r.returncode, 0, r.stdout.decode(errors="replace")[-2000:])
        # s_client prints the attempted protocol either way; a handshake that
        # completed would show a real cipher
        self.assertNotRegex(r.stdout.decode(errors="replace"), r"Cipher is [A-Z0-9]")

    def test_tls12_works(self):
        r = self.s_client(self.srv.port, "-tls1_2")
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out[-2000:])
        self.assertRegex(out, r"Protocol\s*:\s*TLSv1\.2")

    def test_tls13_works(self):
        r = self.s_client(self.srv.port, "-tls1_3")
        out = r.stdout.decode(errors="replace")
        self.assertEqual(r.returncode, 0, out[-2000:])
        self.assertRegex(out, r"TLSv1\.3")

    def test_zz_still_serving(self):
        self.assertTrue(self.srv.running(), "server died; stderr:\n" + self.srv.stderr_text())
        status, _, body = curl([self.srv.base + "/healthz"])
        self.assertEqual((status, body), (200, b"ok\n"))


if __name__ == "__main__":
    unittest.main()
