"""
test_stats_page.py -- /stats in a real browser while a call runs.

Headless Chromium (Debian's, driven by python3-selenium and chromedriver: webdriver.py)
opens /stats while a simulated call streams 50 frames a second. The test
asserts that:
  - the inline script runs under the page's CSP (it counts its polls in
    body[data-polls]; a wrong script hash would block it) and the style
    sheet applies, and the CSP header's hashes are the SHA-256 of the
    script and style the page carries (no 'unsafe-inline');
  - the per-call and total counters on the page rise without a reload
    (a marker set in the page's window survives);
  - while frames flow, each value read from the page lies between two
    /stats.json reads taken around it (the page is at most one poll old);
  - once the call pauses, every cell equals /stats.json exactly: uuid,
    caller, client address, format, packets and bytes both ways, drops,
    last DTMF, totals, refused handshakes, recent events;
  - on a phone-sized window the page itself does not scroll sideways;
  - an operator's block and action appear on the page without a reload;
  - with JavaScript off the server-rendered tables are there.
Screenshots go to build/artifacts/ (stats-page.png wide, stats-page-phone.png).
"""
import base64
import hashlib
import json
import os
import re
import time
import unittest

from harness import REPO, Server, curl, stats
from livecall import FRAME, PacedCall
from webdriver import ChromeDriver

ARTIFACTS = os.path.join(REPO, "build", "artifacts")
UUID, CALLER = "page-call-0001", "447700900123"

READ_PAGE = """
var out = {polls: +document.body.dataset.polls || 0, marker: window.__marker || null,
           summary: {}, calls: {}, rejected: {}, events: [],
           state: document.getElementById("state").textContent,
           gin: document.getElementById("g-in").getAttribute("points") || "",
           scrollW: document.documentElement.scrollWidth, innerW: window.innerWidth};
document.querySelectorAll("#summary [data-k]").forEach(function (td) {
  out.summary[td.dataset.k] = td.textContent; });
document.querySelectorAll("#calls tr[data-id]").forEach(function (tr) {
  var r = {}; tr.querySelectorAll("[data-k]").forEach(function (td) { r[td.dataset.k] = td.textContent; });
  out.calls[r.uuid] = r; });
document.querySelectorAll("#rejected tr").forEach(function (tr) {
  var c = tr.querySelectorAll("td"); out.rejected[c[0].textContent] = c[1].textContent; });
document.querySelectorAll("#events tr").forEach(function (tr) {
  var r = {}; tr.querySelectorAll("[data-k]").forEach(function (td) { r[td.dataset.k] = td.textContent; });
  out.events.push(r); });
return out;
"""

COUNTERS = ("packets_received", "bytes_received", "packets_sent", "bytes_sent", "frames_dropped")


def conn(j, uuid=UUID):
    rows = [c for c in j["connections"] if c["uuid"] == uuid]
    if len(rows) != 1:
        raise AssertionError("call %s not in /stats.json: %s" % (uuid, j["connections"]))
    return rows[0]


class StatsPageBrowserTest(unittest.TestCase):
    def setUp(self):
        self.srv = Server(args=["--rate", "16000"])
        self.srv.start()
        self.call = None

    def tearDown(self):
        if self.call:
            try:
                self.call.stop()
            except Exception:
                pass
        self.srv.kill()

    def _prepare(self):
        srv = self.srv
        for _ in range(2):   # two refused handshakes: no token
            s, _, _ = curl([srv.base + "/socket", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket",
                            "-H", "Sec-WebSocket-Version: 13",
                            "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="])
            self.assertEqual(s, 401)
        for status in ("ringing", "answered"):
            s, _, _ = curl([srv.base + "/webhooks/events", "-H", "Content-Type: application/json",
                            "--data-binary", '{"status":"%s","uuid":"%s"}' % (status, UUID)])
            self.assertEqual(s, 204)
        self.call = PacedCall(srv, UUID, CALLER, dtmf_at={5: "7"})   # 1-4 would switch apps
        self.call.start()
        self.assertTrue(self.call.ready.wait(5))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            j = stats(srv)
            if j["connections"] and conn(j)["packets_received"] >= 10:
                return
            time.sleep(0.05)
        self.fail("the call did not start streaming: %s" % stats(srv))

    def test_live_page_in_chromium(self):
        self._prepare()
        srv = self.srv
        os.makedirs(ARTIFACTS, exist_ok=True)

        # the CSP allows exactly the script the page carries
        _, headers, body = curl([srv.base + "/stats"])
        script = re.search(rb"<script>(.*?)</script>", body, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
        self.assertIn("script-src 'sha256-%s'" % digest, headers["content-security-policy"])
        style = re.search(rb"<style>(.*?)</style>", body, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(style).digest()).decode()
        self.assertIn("style-src 'sha256-%s'" % digest, headers["content-security-policy"])
        self.assertNotIn("unsafe", headers["content-security-policy"])
        self.assertIn("connect-src 'self'", headers["content-security-policy"])
        self.assertLess(len(body), 20 * 1024)

        with ChromeDriver() as drv:
            b = drv.session()
            b.get(srv.base + "/stats")
            # the script ran (CSP hash accepted) and completed a poll
            b.wait("return +document.body.dataset.polls >= 1", 10, "the first poll")
            b.js("window.__marker = 'same-page';")
            # and the style sheet applied (its hash accepted too)
            self.assertEqual(b.js("return getComputedStyle(document.querySelector('table')).borderCollapse"),
                             "collapse")
            p1 = b.js(READ_PAGE)
            self.assertTrue(p1["state"].startswith("live, updated"), p1["state"])

            # counters rise without a reload
            n1 = p1["polls"]
            b.wait("return +document.body.dataset.polls >= %d" % (n1 + 2), 10, "two more polls")
            p2 = b.js(READ_PAGE)
            self.assertEqual(p2["marker"], "same-page", "the page reloaded")
            for k in ("packets_received", "packets_sent", "bytes_received"):
                self.assertGreater(int(p2["calls"][UUID][k]), int(p1["calls"][UUID][k]), k)
                self.assertGreater(int(p2["summary"][k]), int(p1["summary"][k]), k)

            # an operator's block appears, with its action, without a reload
            self.assertEqual(curl(["-X", "POST", "-H", "Content-Type: application/json", "--data-binary",
                                   '{"cidr":"192.0.2.0/24","reason":"scanner"}', srv.base + "/admin/block"])[0], 200)
            b.wait("return [...document.querySelectorAll('#blocks td[data-k=cidr]')]"
                   ".some(function (td) { return td.textContent == '192.0.2.0/24'; })", 10, "the block on the page")
            self.assertEqual(b.js("return document.querySelector('#blocks td[data-k=reason]').textContent"), "scanner")
            self.assertEqual(b.js("return document.querySelector('#actions td[data-k=action]').textContent"), "block")
            self.assertEqual(b.js("return window.__marker"), "same-page")

            # while frames flow: the page is never ahead of the server and at most a poll behind
            j0 = stats(srv)
            n0 = b.js("return +document.body.dataset.polls")
            b.wait("return +document.body.dataset.polls >= %d" % (n0 + 2), 10, "a poll after j0")
            p = b.js(READ_PAGE)
            j1 = stats(srv)
            for k in COUNTERS:
                v = int(p["calls"][UUID][k])
                self.assertTrue(conn(j0)[k] <= v <= conn(j1)[k], "%s: %s <= %s <= %s"
                                % (k, conn(j0)[k], v, conn(j1)[k]))
                v = int(p["summary"][k])
                self.assertTrue(j0["totals"][k] <= v <= j1["totals"][k], k)
            # the graph has drawn the flow: some point above the baseline (y < 78)
            ys = [float(pt.split(",")[1]) for pt in p["gin"].split()]
            self.assertTrue(ys and min(ys) < 78, p["gin"])
            self.assertGreater(float(p["summary"]["frames_in_per_s"]), 0)
            b.set_window(1280, 1300)   # tall enough for the whole page
            with open(os.path.join(ARTIFACTS, "stats-page.png"), "wb") as f:
                f.write(b.screenshot())

            # frames stop: once the next polls land, every cell equals /stats.json
            self.call.pause()
            self.call.wait_settled()
            time.sleep(0.1)
            j = stats(srv)
            n0 = b.js("return +document.body.dataset.polls")
            b.wait("return +document.body.dataset.polls >= %d" % (n0 + 2), 10, "polls after the pause")
            p = b.js(READ_PAGE)
            self.assertEqual(stats(srv)["totals"], j["totals"], "counters still moving")
            self.assertEqual(p["marker"], "same-page")
            c, row = conn(j), p["calls"][UUID]
            self.assertEqual(set(p["calls"]), {UUID})
            for k in COUNTERS:
                self.assertEqual(int(row[k]), c[k], k)
                self.assertEqual(int(p["summary"][k]), j["totals"][k], k)
            self.assertEqual(c["packets_received"], self.call.sent)
            self.assertEqual(row["bytes_received"], str(self.call.sent * FRAME))
            self.assertEqual(row["from"], CALLER)
            self.assertEqual(row["remote"], c["remote"])
            self.assertEqual(row["content_type"], "audio/l16;rate=16000")
            self.assertEqual(row["last_dtmf"], "7")
            self.assertEqual(p["summary"]["connections_open"], "1")
            self.assertEqual(p["summary"]["events_received"], "2")
            self.assertEqual(p["summary"]["version"], j["version"])
            self.assertEqual(p["rejected"]["missing"], "2")
            # the page lists the reasons that happened; the JSON has every one
            self.assertEqual({k: int(v) for k, v in p["rejected"].items()},
                             {k: v for k, v in j["rejected"].items() if v})
            self.assertEqual([(e["uuid"], e["status"]) for e in p["events"]],
                             [(UUID, "answered"), (UUID, "ringing")])
            self.assertEqual([e["time"] for e in p["events"]], [e["time"] for e in j["recent_events"]])

            # the call's quality cells: the JSON's figures, and the meters hold them
            q = c["quality"]
            self.assertEqual(row["mos"], "%.2f" % q["mos"])
            self.assertEqual(row["level_dbfs"].strip(), "%.1f" % q["level_dbfs"])
            self.assertEqual(row["jitter_ms"].strip(), "%.1f" % q["jitter_ms"])
            self.assertEqual(row["gap_frames"], str(q["gap_frames"]))
            self.assertAlmostEqual(b.js("return document.querySelector('#calls td[data-k=level_dbfs] meter').value"),
                                   q["level_dbfs"], places=1)
            self.assertLess(q["level_dbfs"], -3)      # a real level, not the -100 of no audio
            self.assertEqual(p["summary"]["worst_mos"], "%.2f" % j["quality"]["worst_mos"])
            # the chart's scale is labelled, and agrees with the caption
            self.assertEqual(b.js("return document.getElementById('g-ymax').textContent"),
                             b.js("return document.getElementById('g-max').textContent"))
            # the find box filters through ?match= (a navigation, no form: the CSP forbids form actions)
            b.js("var m = document.getElementById('match'); m.value = %s; "
                 "m.dispatchEvent(new Event('change'));" % json.dumps(UUID[:8]))
            b.wait("return location.search.indexOf('match=') > 0 && +document.body.dataset.polls >= 1", 10,
                   "the filtered page")
            self.assertEqual(set(b.js(READ_PAGE)["calls"]), {UUID})
            self.assertEqual(b.js("return document.getElementById('calls-matching').textContent"), "1")
            b.js("var m = document.getElementById('match'); m.value = 'no-such-call'; "
                 "m.dispatchEvent(new Event('change'));")
            b.wait("return location.search.indexOf('no-such-call') > 0 && +document.body.dataset.polls >= 1 && "
                   "document.querySelector('#calls td').textContent == 'No open call matches'", 10,
                   "the empty filtered page")
            b.get(srv.base + "/stats")

            # a phone: the page does not scroll sideways (wide tables scroll in their box)
            b.set_window(390, 844)
            b.wait("return window.innerWidth <= 420", 5, "the narrow window")
            p = b.js(READ_PAGE)
            self.assertLessEqual(p["scrollW"], p["innerW"])
            b.set_window(390, 1500)   # a long phone screen: the whole page in one picture
            with open(os.path.join(ARTIFACTS, "stats-page-phone.png"), "wb") as f:
                f.write(b.screenshot())

            # without JavaScript: the server-rendered page has the same cells
            nojs = drv.session(["--blink-settings=scriptEnabled=false"])
            nojs.get(srv.base + "/stats")
            p = nojs.js(READ_PAGE)   # WebDriver scripts still run; the page's own did not
            self.assertEqual(p["polls"], 0)
            self.assertIn("snapshot", p["state"])
            self.assertEqual(int(p["calls"][UUID]["packets_received"]), conn(stats(srv))["packets_received"])
            self.assertEqual(p["calls"][UUID]["from"], CALLER)

        for name in ("stats-page.png", "stats-page-phone.png"):
            with open(os.path.join(ARTIFACTS, name), "rb") as f:
                png = f.read()
            self.assertTrue(png.startswith(b"\x89PNG\r\n\x1a\n"), name)
            self.assertGreater(len(png), 10000, name)


if __name__ == "__main__":
    unittest.main()
