"""
test_arm64.py -- the arm64 build (make CROSS=aarch64-linux-gnu-, `make arm64`)
under qemu-user: its CMocka unit tests, and simulated calls from the amd64
caller-sim against the arm64 caller-echo, plain and TLS, with zero loss and
the server's counters equal to the simulator's.

Also prints the figures docs/deploy.md reports (stripped sizes, RSS under
qemu); they are not asserted against targets here: under qemu-user the
process's RSS includes the emulator itself, which is measured alongside with
an arm64 program that only sleeps.

Skipped when build/aarch64/ has not been built (`make test` builds it).
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import REPO, Server, required, skip_under, stats, tmp_root
from test_sim import run_json

ARM = os.path.join(REPO, "build", "aarch64")
ARM_BIN = os.path.join(ARM, "caller-echo")
QEMU = shutil.which("qemu-aarch64-static") or shutil.which("qemu-aarch64")
CROSS = "aarch64-linux-gnu-"
EM_AARCH64 = 183


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    return int.from_bytes(head[18:20], "little") if head[:4] == b"\x7fELF" else None


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M).group(1))


def smaps(pid):
    """(total RSS, private anonymous, RSS of file mappings of arm64 objects) in KiB."""
    total = anon = guest_files = 0
    name = ""
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split(None, 5)
                name = parts[5].strip() if len(parts) > 5 else ""
            elif line.startswith("Rss:"):
                kb = int(line.split()[1])
                total += kb
                if "aarch64" in name:
                    guest_files += kb
            elif line.startswith("Anonymous:"):
                anon += int(line.split()[1])
    return total, anon, guest_files


def stripped_size(binary, strip):
    out = os.path.join(tempfile.mkdtemp(dir=tmp_root()), "stripped")
    subprocess.run([strip, "-o", out, binary], check=True, timeout=60)
    return os.path.getsize(out)


@skip_under("asan", "valgrind", reason="runs the arm64 build under qemu, not the sanitizer build; "
            "the plain run covers it")
@required(os.path.exists(ARM_BIN), "no arm64 build: make arm64 (make test does it)")
@required(QEMU, "qemu-user-static missing: make arm64 installs it (scripts/setup-cross.sh)")
class Arm64(unittest.TestCase):

    def server(self, **kw):
        return Server(binary=ARM_BIN, runner=[QEMU], start_timeout=30, **kw)

    def test_binaries_are_arm64(self):
        for name in ("caller-echo", "caller-sim"):
            self.assertEqual(elf_machine(os.path.join(ARM, name)), EM_AARCH64, name)
        self.assertNotEqual(elf_machine(os.path.join(REPO, "build", "caller-sim")), EM_AARCH64)

    def test_unit_tests_under_qemu(self):
        bins = sorted(os.path.join(ARM, "test", f) for f in os.listdir(os.path.join(ARM, "test"))
                      if f.startswith("test_") and "." not in f)
        self.assertGreaterEqual(len(bins), 10, bins)
        for b in bins:
            self.assertEqual(elf_machine(b), EM_AARCH64, b)
            with self.subTest(os.path.basename(b)):
                p = subprocess.run([QEMU, b], env=dict(os.environ, CMOCKA_MESSAGE_OUTPUT="tap"),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
                out = p.stdout.decode("utf-8", "replace")
                planned = re.search(r"(?m)^1\.\.(\d+)$", out)
                ok = len(re.findall(r"(?m)^ok ", out))
                self.assertEqual(p.returncode, 0, out[-3000:])
                self.assertIsNotNone(planned, out[-3000:])
                self.assertEqual(ok, int(planned.group(1)), out[-3000:])

    def test_simulated_calls(self):
        for tls in (False, True):
            with self.subTest("wss" if tls else "ws"), self.server(tls=tls) as srv:
                self.assertIn("libev loop", srv.stderr_text())
                args = ["--calls", "6", "--duration", "1.5", srv.base + "/webhooks/answer"]
                r = run_json(self, (["--insecure"] if tls else []) + args, srv.secret)
                self.assertEqual((r["done"], r["failed"], r["lost"], r["mismatched"]), (6, 0, 0, 0))
                self.assertTrue(r["ws_uri"].startswith("wss://" if tls else "ws://"))
                d = stats(srv)
                self.assertEqual(d["totals"]["connections_total"], 6)
                self.assertEqual(d["totals"]["packets_received"], r["sent"])
                self.assertEqual(d["totals"]["packets_sent"], r["sent"])

    def test_figures(self):
        """Stripped sizes and RSS under qemu, printed for docs/deploy.md."""
        sizes = {"amd64": stripped_size(os.path.join(REPO, "build", "caller-echo"), "strip"),
                 "arm64": stripped_size(ARM_BIN, CROSS + "strip")}
        # the emulator's own share: an arm64 program that only sleeps
        d = tempfile.mkdtemp(dir=tmp_root())
        src, sleeper = os.path.join(d, "sleep.c"), os.path.join(d, "sleep")
        with open(src, "w") as f:
            f.write("#include <unistd.h>\nint main(void) { pause(); return 0; }\n")
        subprocess.run([CROSS + "gcc", "-O2", "-o", sleeper, src], check=True, timeout=60)
        p = subprocess.Popen([QEMU, sleeper])
        try:
            time.sleep(0.5)
            qemu_base = rss_kib(p.pid)
        finally:
            p.kill()
            p.wait()
        with Server() as native:
            time.sleep(0.3)
            nat_total, nat_anon, _ = smaps(native.proc.pid)
        n = 100
        with self.server() as srv:
            time.sleep(0.3)
            idle = rss_kib(srv.proc.pid)
            _, _, guest_files = smaps(srv.proc.pid)
            # qemu translates each code path the first time it runs (TLS-free
            # handshake, JWT, echo): a few warm-up calls keep that one-time
            # growth out of the per-call figure, which is then measured from here
            warm = subprocess.run(
                [os.path.join(REPO, "build", "caller-sim"), "--json", "--calls", "5",
                 "--duration", "1", srv.base + "/webhooks/answer"],
                env=dict(os.environ, VONAGE_SIGNATURE_SECRET=srv.secret.decode()),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            self.assertEqual(warm.returncode, 0, warm.stderr.decode()[-2000:])
            time.sleep(0.3)
            warmed = rss_kib(srv.proc.pid)
            sim = subprocess.Popen(
                [os.path.join(REPO, "build", "caller-sim"), "--json", "--calls", str(n),
                 "--ramp", "0", "--duration", "4", srv.base + "/webhooks/answer"],
                env=dict(os.environ, VONAGE_SIGNATURE_SECRET=srv.secret.decode()),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            peak, deadline = warmed, time.monotonic() + 20
            while time.monotonic() < deadline and sim.poll() is None:
                if stats(srv)["totals"]["connections_open"] == n:
                    time.sleep(0.5)
                    peak = max(peak, rss_kib(srv.proc.pid))
                    break
                time.sleep(0.1)
            out, err = sim.communicate(timeout=60)
            self.assertEqual(sim.returncode, 0, err.decode()[-2000:])
        self.assertGreater(peak, warmed, "RSS never read with %d calls open" % n)
        print("\n  figures: stripped caller-echo amd64 %d B (%.1f KiB), arm64 %d B (%.1f KiB); "
              "amd64 idle RSS %d KiB (private anonymous %d KiB); "
              "under qemu-aarch64: sleeping arm64 program %d KiB, caller-echo idle %d KiB "
              "(minus emulator %d KiB; arm64 binary and libraries mapped %d KiB), "
              "after 5 warm-up calls %d KiB, %d calls open %d KiB: %.1f KiB per call"
              % (sizes["amd64"], sizes["amd64"] / 1024, sizes["arm64"], sizes["arm64"] / 1024,
                 nat_total, nat_anon, qemu_base, idle, idle - qemu_base, guest_files, warmed, n, peak,
                 (peak - warmed) / n), flush=True)


if __name__ == "__main__":
    unittest.main()
