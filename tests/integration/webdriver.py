"""
webdriver.py -- the few W3C WebDriver calls the browser test needs, over
HTTP with the standard library only, against Debian's chromedriver driving
Debian's headless Chromium (/usr/bin/chromium). No PyPI, no npm.

    with ChromeDriver() as drv:
        s = drv.session()
        s.get(url); s.js("return document.title"); png = s.screenshot()
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from harness import free_port, tmp_root

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
# flags that work on a headless CI box with no GPU and no network
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--no-proxy-server", "--hide-scrollbars"]

# urllib would otherwise honour an http_proxy from the environment
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WebDriverError(AssertionError):
    pass


def _call(method, url, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with _opener.open(req, timeout=timeout) as r:
            payload = json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise WebDriverError("%s %s -> %s %s" % (method, url, e.code, e.read()[:500]))
    return payload.get("value")


class Session:
    def __init__(self, base, sid):
        self.base, self.sid = base, sid

    def _url(self, path):
        return "%s/session/%s%s" % (self.base, self.sid, path)

    def get(self, url):
        _call("POST", self._url("/url"), {"url": url})

    def js(self, script, *args):
        return _call("POST", self._url("/execute/sync"), {"script": script, "args": list(args)})

    def screenshot(self):
        return base64.b64decode(_call("GET", self._url("/screenshot")))

    def set_window(self, width, height):
        _call("POST", self._url("/window/rect"), {"width": width, "height": height})

    def wait(self, script, timeout=10.0, what="condition"):
        """Poll a JS expression (a `return ...` script) until it is truthy; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.js(script)
            if v:
                return v
            if time.monotonic() > deadline:
                raise WebDriverError("timed out waiting for %s" % what)
            time.sleep(0.1)

    def quit(self):
        try:
            _call("DELETE", "%s/session/%s" % (self.base, self.sid), timeout=10)
        except (WebDriverError, OSError):
            pass


class ChromeDriver:
    """chromedriver on a free loopback port; every session gets a fresh profile."""

    def __init__(self, window=(1280, 900)):
        self.window = window
        self.proc = None
        self.sessions = []

    def __enter__(self):
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.log = open(os.path.join(tmp_root(), "chromedriver-%d.log" % self.port), "wb")
        self.proc = subprocess.Popen([CHROMEDRIVER, "--port=%d" % self.port],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                if (_call("GET", self.base + "/status", timeout=2) or {}).get("ready"):
                    return self
            except (OSError, WebDriverError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)

    def session(self, extra_flags=()):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_root())
        args = FLAGS + ["--user-data-dir=" + profile,
                        "--window-size=%d,%d" % self.window] + list(extra_flags)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args}}}}
        v = _call("POST", self.base + "/session", caps, timeout=60)
        s = Session(self.base, v["sessionId"])
        self.sessions.append((s, profile))
        return s

    def __exit__(self, *exc):
        for s, profile in self.sessions:
            s.quit()
            shutil.rmtree(profile, True)
        self.sessions = []
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()
        return False
