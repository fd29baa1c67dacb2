"""
webdriver.py -- headless Debian Chromium for the browser test, through
Debian's python3-selenium and chromium-driver (scripts/deps.sh test installs
all three; selenium is given the driver's path, so it downloads nothing).

    with ChromeDriver() as drv:
        s = drv.session()
        s.get(url); s.js("return document.title"); png = s.screenshot()
"""
import shutil
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness import tmp_root

CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM = "/usr/bin/chromium"
# flags that work on a headless CI box with no GPU and no network
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--no-proxy-server", "--hide-scrollbars"]


class WebDriverError(AssertionError):
    pass


class Session:
    """One browser, with the few calls the test makes."""

    def __init__(self, driver):
        self.d = driver

    def get(self, url):
        self.d.get(url)

    def js(self, script, *args):
        return self.d.execute_script(script, *args)

    def screenshot(self):
        return self.d.get_screenshot_as_png()

    def set_window(self, width, height):
        self.d.set_window_size(width, height)

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
            self.d.quit()
        except Exception:   # the browser may be gone already; nothing to keep
            pass


class ChromeDriver:
    """Every session is its own chromedriver and browser, with a fresh profile."""

    def __init__(self, window=(1280, 900)):
        self.window = window
        self.sessions = []

    def __enter__(self):
        return self

    def session(self, extra_flags=()):
        profile = tempfile.mkdtemp(prefix="chromium-", dir=tmp_root())
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in FLAGS + ["--user-data-dir=" + profile, "--window-size=%d,%d" % self.window] + list(extra_flags):
            opts.add_argument(a)
        s = Session(webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts))
        self.sessions.append((s, profile))
        return s

    def __exit__(self, *exc):
        for s, profile in self.sessions:
            s.quit()
            shutil.rmtree(profile, True)
        self.sessions = []
        return False
