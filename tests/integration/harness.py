"""
harness.py -- start the real build/caller-echo on 127.0.0.1 and talk to it.

Used by the integration tests (test_*.py in this directory). Only the Python
standard library, Debian's python3-websockets and the curl/openssl binaries.

    with Server(args=["--rate", "16000"]) as srv:
        status, headers, body = curl([srv.base + "/healthz"])
        token = make_jwt(srv.secret)

Run with Debian's interpreter: /usr/bin/python3 -m unittest discover -s tests/integration

Sanitizer runs (scripts/run-tests.sh sets these; see "Sanitizer runs" below):
    CALLER_ECHO_SANITIZER=asan CALLER_ECHO_BIN=build/asan/caller-echo ...
    CALLER_ECHO_SANITIZER=valgrind ...   (the normal binary under valgrind memcheck)
Then every Server is stopped with SIGTERM instead of killed, so leak checks
run at exit, and a report in its stderr (or valgrind's log) fails the test.
"""
import atexit
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("CALLER_ECHO_BIN") or os.path.join(REPO, "build", "caller-echo")

# Environment variables the server reads, scrubbed so the caller's shell
# cannot change what a test sees: read off the server's own --help, which
# prints every option's "[env NAME]" from the one option table
# (src/config.cpp), plus the secret, which has no flag.
_config_env = None


def config_env():
    global _config_env
    if _config_env is None:
        out = subprocess.run([BIN, "--help"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=10, env={"PATH": os.environ.get("PATH", "")}).stdout.decode()
        names = set(re.findall(r"\[env ([A-Z0-9_]+)\]", out))
        if len(names) < 20:
            raise AssertionError("cannot read the environment names from %s --help:\n%s" % (BIN, out))
        _config_env = frozenset(names | {"VONAGE_SIGNATURE_SECRET"})
    return _config_env


APPLICATION_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"

# -- Sanitizer runs -------------------------------------------------------------
# "" (plain), "asan" (BIN built with -fsanitize=address,undefined: make asan) or
# "valgrind" (BIN run under memcheck). ASan/UBSan stop the server at the first
# error (abort_on_error, halt_on_error) and LeakSanitizer checks at exit;
# valgrind exits 99 on any error or definite/indirect leak. lws/OpenSSL blocks
# still reachable at exit are not leaks and are not counted.
SANITIZER = os.environ.get("CALLER_ECHO_SANITIZER", "")
if SANITIZER not in ("", "asan", "valgrind"):
    raise RuntimeError("CALLER_ECHO_SANITIZER must be asan or valgrind, not %r" % SANITIZER)
SANITIZER_ENV = {
    "ASAN_OPTIONS": "abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}
VALGRIND = ["valgrind", "--tool=memcheck", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect",
            "--error-exitcode=99", "--num-callers=30"]
VALGRIND_EXIT = 99
# how much slower start-up and exit are (start timeouts, stop waits)
SLOWDOWN = {"": 1.0, "asan": 2.0, "valgrind": 8.0}[SANITIZER]
# lines a sanitizer prints when it found something (not its banner or options)
_REPORT = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer)|SUMMARY: \w*Sanitizer|"
                     r"runtime error: |WARNING: \w*Sanitizer")
_VG_ERRORS = re.compile(r"ERROR SUMMARY: (\d+) errors")
_VG_LOST = re.compile(r"(definitely|indirectly) lost: ([\d,]+) bytes")


def required(present, what):
    """Class or test decorator for what `make test` installs (scripts/deps.sh
    test) or builds: when it is missing the test fails with `what`, it is
    never silently skipped."""
    import functools

    def deco(obj):
        if present:
            return obj
        if isinstance(obj, type):
            def fail(*a):
                raise AssertionError(what)
            obj.setUpClass = classmethod(fail)
            obj.setUp = fail
            return obj

        @functools.wraps(obj)
        def failing(*a, **kw):
            raise AssertionError(what)
        return failing
    return deco


def skip_under(*kinds, reason):
    """Decorator: skip a test (or class) when running under one of these sanitizers."""
    if SANITIZER and SANITIZER in kinds:
        return unittest.skip("under %s: %s" % (SANITIZER, reason))
    return lambda f: f


def sanitizer_findings(stderr_text, valgrind_log=None):
    """The report lines a sanitizer left (ASan/UBSan/LSan in stderr, memcheck
    in its log); empty when clean."""
    found = [l for l in stderr_text.splitlines() if _REPORT.search(l)]
    if valgrind_log is not None:
        m = _VG_ERRORS.search(valgrind_log)
        if not m:
            found.append("valgrind: no ERROR SUMMARY (did the server exit?)")
        elif int(m.group(1)):
            found.append(m.group(0))
        for kind, n in _VG_LOST.findall(valgrind_log):
            if int(n.replace(",", "")):
                found.append("valgrind: %s lost: %s bytes" % (kind, n))
    return found

_tmp_root = None


def tmp_root():
    """One temporary directory per test run, removed at exit."""
    global _tmp_root
    if _tmp_root is None:
        _tmp_root = tempfile.mkdtemp(prefix="caller-echo-it-")
        atexit.register(shutil.rmtree, _tmp_root, True)
    return _tmp_root


def clean_env(extra=None):
    """os.environ without the server's configuration variables, plus extra."""
    scrub = config_env()
    env = {k: v for k, v in os.environ.items() if k not in scrub}
    if extra:
        env.update(extra)
    return env


def _port_range():
    """CALLER_ECHO_PORTS="LO-HI": where this run's servers listen. Below the
    kernel's ephemeral range (32768+), so no client socket of any test can
    hold a port a server is about to bind, and scripts/run-tests.sh gives
    the plain and the ASan suites disjoint ranges so they can run at once."""
    lo, _, hi = os.environ.get("CALLER_ECHO_PORTS", "20000-25999").partition("-")
    return int(lo), int(hi)


def free_port():
    lo, hi = _port_range()
    for _ in range(200):
        port = random.randint(lo, hi)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise AssertionError("no free port in %d-%d" % (lo, hi))


_tls_pair = None


def tls_pair():
    """(cert, key) paths of a self-signed pair for 127.0.0.1, made once per run."""
    global _tls_pair
    if _tls_pair is None:
        d = os.path.join(tmp_root(), "tls")
        os.makedirs(d, exist_ok=True)
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", key, "-out", cert],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=30)
        _tls_pair = (cert, key)
    return _tls_pair


def unverified_ssl_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class ServerStartError(AssertionError):
    pass


class Server:
    """The real binary on 127.0.0.1:<free port>, as a context manager.

    args are appended after the harness's own flags (--listen, --port,
    --secret-file, TLS flags), so a test can add anything else. env entries
    are added to a scrubbed environment. secret (bytes/str) replaces the
    random one (48 printable bytes). Readiness = one successful GET /healthz (the poll only
    retries refused connects, so a ready server sees exactly one request).

    The suite's clients mostly send audio faster than real time (to test
    thousands of frames in seconds), which the echo app's burst policy
    would trim (src/apps/echo.cpp): unless a test asks for realtime=True or sets
    --echo-max-ms itself, the server runs with --echo-max-ms 0 (keep every
    frame). The burst tests and paced calls run with the default policy.
    Likewise SIGTERM: the server drains for up to --drain-timeout (600 s),
    which would make every teardown with a call still open wait; unless a
    test asks for drain=True or sets --drain-timeout itself, the server runs
    with --drain-timeout 0 (SIGTERM closes calls with 1001 at once).
    """

    def __init__(self, args=None, env=None, tls=False, secret=None, start_timeout=5.0,
                 secret_via="file", port=None, binary=None, runner=None, realtime=False, drain=False):
        self.args = list(args or [])
        if not realtime and not any(a.startswith("--echo-max-ms") for a in self.args):
            self.args = ["--echo-max-ms", "0"] + self.args
        if not drain and not any(a.startswith("--drain-timeout") for a in self.args):
            self.args = ["--drain-timeout", "0"] + self.args
        self.secret_via = secret_via    # "file": --secret-file; "env": VONAGE_SIGNATURE_SECRET
        self.env = dict(env or {})
        self.tls = tls
        if secret is None:
            secret = base64.urlsafe_b64encode(os.urandom(36)).rstrip(b"=")   # 48 bytes
        self.secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        self.start_timeout = start_timeout
        self.fixed_port = port          # None: a free one (port sharing tests pass one)
        self.binary = binary or BIN     # another build, e.g. build/aarch64/caller-echo
        self.runner = list(runner or [])   # e.g. ["qemu-aarch64-static"]
        # the sanitizer run applies to BIN only, not to another build or runner
        self.sanitizer = SANITIZER if self.binary == BIN and not self.runner else ""
        self.start_timeout *= SLOWDOWN if self.sanitizer else 1.0
        self.port = None
        self.proc = None
        self.stop_seconds = None
        self._dir = None

    # -- lifecycle --------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.kill()   # under a sanitizer: raises if the server reported errors
        return False

    def start(self):
        self._dir = tempfile.mkdtemp(prefix="srv-", dir=tmp_root())
        secret_file = os.path.join(self._dir, "secret")
        with open(secret_file, "wb") as f:
            f.write(self.secret)
        os.chmod(secret_file, 0o600)
        self.port = self.fixed_port or free_port()
        argv = self.runner + [self.binary, "--listen", "127.0.0.1", "--port", str(self.port)]
        env = clean_env(self.env)
        self.valgrind_log_path = None
        self.checked = False
        if self.sanitizer == "asan":
            for k, v in SANITIZER_ENV.items():
                env.setdefault(k, v)
        elif self.sanitizer == "valgrind":
            self.valgrind_log_path = os.path.join(self._dir, "valgrind.log")
            argv = VALGRIND + ["--log-file=" + self.valgrind_log_path] + argv
        if self.secret_via == "env":
            env["VONAGE_SIGNATURE_SECRET"] = self.secret.decode()
        else:
            argv += ["--secret-file", secret_file]
        if self.tls:
            cert, key = tls_pair()
            argv += ["--tls-cert", cert, "--tls-key", key]
        argv += self.args
        self.argv = argv
        self.stderr_path = os.path.join(self._dir, "stderr")
        self.stdout_path = os.path.join(self._dir, "stdout")
        self._err = open(self.stderr_path, "wb")
        self._out = open(self.stdout_path, "wb")
        if not os.access(self.binary, os.X_OK):
            raise ServerStartError("server binary %s missing (run make)" % self.binary)
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=self._err, env=env)
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError("server exited with %s before serving /healthz; stderr:\n%s"
                                       % (self.proc.returncode, self.stderr_text()))
            try:
                status, body = self._get_once("/healthz")
                if status == 200:
                    return
                last = "GET /healthz -> %s %r" % (status, body[:200])
            except (ConnectionRefusedError, ConnectionResetError, socket.timeout, ssl.SSLError,
                    http.client.HTTPException, OSError) as e:
                last = repr(e)
            time.sleep(0.02)
        raise ServerStartError("server not ready on port %s within %.1f s (last: %s); stderr:\n%s"
                               % (self.port, self.start_timeout, last, self.stderr_text()))

    def _ready_port(self):
        """The port that proves this process is up: with --reuse-port the
        shared port may be answered by another worker already running, so a
        worker is ready when its own --worker-port answers."""
        if "--worker-port" in self.args:
            i = self.args.index("--worker-port")
            if i + 1 < len(self.args) and self.args[i + 1].isdigit():
                return int(self.args[i + 1])
        return self.port

    def _get_once(self, path, port=None):
        port = port or self._ready_port()
        if self.tls:
            c = http.client.HTTPSConnection("127.0.0.1", port, timeout=2,
                                            context=unverified_ssl_context())
        else:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Send sig, wait up to timeout s; returns the exit code (killed: negative).

        Under a sanitizer the wait is longer (leak checks run at exit), and
        valgrind's exit code 99 (it found errors) is reported as the
        server's; the report itself fails the test in check_sanitizer()."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            t0 = time.monotonic()
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout * (SLOWDOWN if self.sanitizer else 1.0))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.stop_seconds = time.monotonic() - t0
        self._close_files()
        return self.proc.returncode

    def kill(self):
        """End the server (tests' teardown). Plain runs: SIGKILL. Sanitizer
        runs: SIGTERM and a clean exit, so leaks are checked, then raise
        AssertionError if the server reported anything."""
        if self.sanitizer:
            self.stop()
            self.check_sanitizer()
            return
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._close_files()

    def check_sanitizer(self):
        """Raise AssertionError if ASan/UBSan/LSan or memcheck reported an error
        for this server (once per server; a no-op in plain runs)."""
        if not self.sanitizer or self.proc is None or self.checked:
            return
        self.checked = True
        vg = None
        if self.valgrind_log_path:
            try:
                with open(self.valgrind_log_path, "rb") as f:
                    vg = f.read().decode("utf-8", "replace")
            except OSError:
                vg = ""
        found = sanitizer_findings(self.stderr_text(), vg)
        if self.proc.returncode == VALGRIND_EXIT and self.sanitizer == "valgrind":
            found.append("valgrind exit status %d" % VALGRIND_EXIT)
        if found:
            detail = vg if vg else self.stderr_text()
            raise AssertionError("%s found errors in the server (%s):\n  %s\n--- %s ---\n%s"
                                 % (self.sanitizer, self.binary, "\n  ".join(found[:10]),
                                    "valgrind log" if vg else "stderr", detail[-6000:]))

    def _close_files(self):
        for f in (getattr(self, "_err", None), getattr(self, "_out", None)):
            if f and not f.closed:
                f.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    # -- addresses --------------------------------------------------------
    @property
    def base(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    @property
    def ws_base(self):
        return "%s://127.0.0.1:%d" % ("wss" if self.tls else "ws", self.port)

    def stderr_text(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""


# -- JWT --------------------------------------------------------------------
def b64url(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def make_jwt(secret, claims=None, header=None, alg="HS256"):
    """A Vonage-style signed-webhook JWT.

    Default claims: iat=now, jti=uuid4, iss='Vonage', application_id. claims
    is merged over them; a value of None removes the claim. header is merged
    over {"alg": alg, "typ": "JWT"}. The signature uses alg (HS256/384/512 =
    HMAC with secret; anything else, e.g. 'none', = empty signature).
    """
    if isinstance(secret, str):
        secret = secret.encode()
    body = {"iat": int(time.time()), "jti": str(uuid.uuid4()), "iss": "Vonage",
            "application_id": APPLICATION_ID}
    for k, v in (claims or {}).items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    hdr = {"alg": alg, "typ": "JWT"}
    for k, v in (header or {}).items():
        if v is None:
            hdr.pop(k, None)
        else:
            hdr[k] = v
    signing_input = (b64url(json.dumps(hdr, separators=(",", ":"))) + "." +
                     b64url(json.dumps(body, separators=(",", ":"))))
    h = _HASHES.get(alg)
    sig = b64url(hmac.new(secret, signing_input.encode(), h).digest()) if h else ""
    return signing_input + "." + sig


def bearer(secret, **kw):
    return ("Authorization", "Bearer " + make_jwt(secret, **kw))


# -- HTTP via curl ------------------------------------------------------------
class Headers(dict):
    """Response headers, names lower-cased; .raw keeps the header block text."""
    raw = ""


def _parse_header_block(text):
    # With redirects or 100-continue there can be several blocks; keep the last.
    blocks = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()]
    h = Headers()
    h.raw = blocks[-1] if blocks else ""
    for line in h.raw.split("\n")[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k, v = k.strip().lower(), v.strip()
            h[k] = h[k] + ", " + v if k in h else v
    return h


def curl_full(args, timeout=10):
    """Run curl; returns (exit code, http status, Headers, body bytes, stderr)."""
    d = tempfile.mkdtemp(prefix="curl-", dir=tmp_root())
    hfile, bfile = os.path.join(d, "h"), os.path.join(d, "b")
    cmd = ["curl", "-sS", "-k", "--noproxy", "*", "--max-time", str(timeout),
           "-D", hfile, "-o", bfile, "-w", "%{http_code}"] + list(args)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 5)
    try:
        status = int(p.stdout.decode().strip() or 0)
    except ValueError:
        status = 0
    headers = Headers()
    if os.path.exists(hfile):
        with open(hfile, "rb") as f:
            headers = _parse_header_block(f.read().decode("latin-1"))
    body = b""
    if os.path.exists(bfile):
        with open(bfile, "rb") as f:
            body = f.read()
    shutil.rmtree(d, True)
    return p.returncode, status, headers, body, p.stderr.decode("utf-8", "replace")


def curl(args, timeout=10):
    """curl args... -> (status, headers, body). status 0 = no HTTP response."""
    _, status, headers, body, _ = curl_full(args, timeout)
    return status, headers, body


def stats(server):
    """GET /stats.json as a dict (asserts 200)."""
    status, headers, body = curl([server.base + "/stats.json"])
    if status != 200:
        raise AssertionError("GET /stats.json -> %s %r" % (status, body[:300]))
    return json.loads(body)


def raw_http(server, request, timeout=5.0):
    """Send raw request bytes on a fresh connection; returns (status, Headers, body).

    Reads until the peer closes or Content-Length bytes of body have
    arrived. status 0 = the connection closed without a response.
    """
    s = socket.create_connection(("127.0.0.1", server.port), timeout=timeout)
    if server.tls:
        s = unverified_ssl_context().wrap_socket(s, server_hostname="127.0.0.1")
    data = b""
    try:
        s.sendall(request)
        while True:
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                h = _parse_header_block(head.decode("latin-1"))
                if "content-length" in h and len(rest) >= int(h["content-length"]):
                    break
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, ssl.SSLError):
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/"):
        return 0, Headers(), data
    h = _parse_header_block(head.decode("latin-1"))
    status = int(head.split(b" ", 2)[1])
    if "content-length" in h:
        rest = rest[:int(h["content-length"])]
    return status, h, rest
