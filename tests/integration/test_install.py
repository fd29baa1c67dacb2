"""
test_install.py -- `make install` and the systemd units (README "Deploy").

Installs into a temporary DESTDIR and checks every file and mode, that the
environment file (it holds the secret) is 0600 and never overwritten, and
that the units name the installed paths. Then installs with PREFIX and
SYSCONFDIR inside a temporary directory (so the unit's ExecStart exists) and
runs `systemd-analyze verify` on both units, alone and with the low-port
drop-in merged in: exit 0 and not one warning. A unit with a typo must make
verify complain (the check can fail), and `systemd-analyze security` must
rate the unit's exposure low. The installed binary starts from the example
environment file with a secret filled in.
"""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from harness import REPO, clean_env, curl, free_port, required, tmp_root

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def make_install(*args):
    p = subprocess.run(["make", "-s", "-C", REPO, "install"] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=300)
    if p.returncode:
        raise AssertionError("make install %s failed:\n%s" % (" ".join(args), p.stdout.decode()))
    return p.stdout.decode()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def read(path):
    with open(path) as f:
        return f.read()


def verify(unit):
    """systemd-analyze verify: (exit status, everything it printed)."""
    p = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", unit], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode()


class Install(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dest = tempfile.mkdtemp(prefix="destdir-", dir=tmp_root())
        cls.out = make_install("DESTDIR=" + cls.dest)

    def path(self, p):
        return os.path.join(self.dest, p.lstrip("/"))

    def test_files_and_modes(self):
        want = {
            "/usr/local/bin/caller-echo": 0o755,
            "/usr/local/bin/caller-sim": 0o755,
            "/usr/local/bin/caller-echo-swap": 0o755,
            "/etc/sysctl.d/60-caller-echo.conf": 0o644,
            "/usr/local/lib/systemd/system/caller-echo.service": 0o644,
            "/usr/local/lib/systemd/system/caller-echo@.service": 0o644,
            "/usr/local/share/caller-echo/low-port.conf": 0o644,
            "/usr/local/share/caller-echo/caller-echo.conf": 0o644,
            "/usr/local/share/caller-echo/prometheus.yml": 0o644,
            "/usr/local/share/caller-echo/fail2ban/filter.d/caller-echo.conf": 0o644,
            "/usr/local/share/caller-echo/fail2ban/jail.d/caller-echo.conf": 0o644,
            "/etc/caller-echo/caller-echo.env": 0o600,
        }
        got = {}
        for root, _, files in os.walk(self.dest):
            for f in files:
                full = os.path.join(root, f)
                got["/" + os.path.relpath(full, self.dest)] = mode(full)
        self.assertEqual(got, want)
        with open(os.path.join(REPO, "build", "caller-echo"), "rb") as a, \
                open(self.path("/usr/local/bin/caller-echo"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_units_name_the_installed_paths(self):
        unit = read(self.path("/usr/local/lib/systemd/system/caller-echo.service"))
        tmpl = read(self.path("/usr/local/lib/systemd/system/caller-echo@.service"))
        for text in (unit, tmpl):
            self.assertNotIn("@BINDIR@", text)
            self.assertNotIn("@ENVFILE@", text)
            self.assertIn("\nExecStart=/usr/local/bin/caller-echo $CALLER_ECHO_ARGS\n", text)
            self.assertIn("\nEnvironmentFile=/etc/caller-echo/caller-echo.env\n", text)
            self.assertIn("\nExecReload=/bin/kill -HUP $MAINPID\n", text)
            for line in ("DynamicUser=yes", "NoNewPrivileges=yes", "ProtectSystem=strict",
                         "PrivateTmp=yes", "Restart=on-failure", "CapabilityBoundingSet=",
                         "AmbientCapabilities="):
                self.assertIn("\n" + line + "\n", text)
            self.assertRegex(text, r"\nMemoryMax=\d+[KMG]\n")
            self.assertRegex(text, r"\nLimitNOFILE=\d+\n")
        self.assertNotIn("WORKER_ID", unit)
        self.assertNotRegex(unit, r"(?m)^#@WORKER@")
        self.assertIn("\nEnvironment=WORKER_ID=%i REUSE_PORT=1\n", tmpl)
        # blocks survive a restart, one file per process, in the unit's own state directory
        for text in (unit, tmpl):
            self.assertIn("\nStateDirectory=caller-echo\n", text)
            self.assertIn("\nEnvironment=BLOCK_FILE=/var/lib/caller-echo/blocks.json\n", text)
        self.assertIn("\nEnvironment=BLOCK_FILE=/var/lib/caller-echo/blocks-%i.json\n", tmpl)
        self.assertLess(tmpl.index("blocks.json"), tmpl.index("blocks-%i.json"))   # the later one wins
        self.assertIn("\nEnvironmentFile=-/etc/caller-echo/worker-%i.env\n", tmpl)
        # the drain fits the stop timeout; every instance maps the one replay file
        for text in (unit, tmpl):
            self.assertIn("\nTimeoutStopSec=660s\n", text)
            self.assertIn("\nUser=caller-echo\n", text)
            self.assertIn("\nEnvironment=REPLAY_FILE=/var/lib/caller-echo/replay\n", text)
        self.assertIn("net.ipv4.tcp_migrate_req = 1", read(self.path("/etc/sysctl.d/60-caller-echo.conf")))

    def test_env_file_is_never_overwritten(self):
        env = self.path("/etc/caller-echo/caller-echo.env")
        with open(env, "a") as f:
            f.write("VONAGE_SIGNATURE_SECRET=mine\n")
        os.chmod(env, 0o640)
        out = make_install("DESTDIR=" + self.dest)
        self.assertIn("keeping existing", out)
        self.assertTrue(read(env).endswith("VONAGE_SIGNATURE_SECRET=mine\n"))
        self.assertEqual(mode(env), 0o640)
        os.chmod(env, 0o600)


@required(SYSTEMD_ANALYZE, "systemd-analyze missing: scripts/deps.sh test installs it (Debian package systemd)")
class SystemdVerify(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(prefix="prefix-", dir=tmp_root())
        os.chmod(cls.root, 0o755)
        make_install("PREFIX=" + cls.root + "/usr", "SYSCONFDIR=" + cls.root + "/etc")
        cls.units = os.path.join(cls.root, "usr", "lib", "systemd", "system")
        cls.share = os.path.join(cls.root, "usr", "share", "caller-echo")

    def test_verify_both_units(self):
        for name in ("caller-echo.service", "caller-echo@.service"):
            with self.subTest(name):
                rc, out = verify(os.path.join(self.units, name))
                self.assertEqual((rc, out), (0, ""))

    def test_verify_with_low_port_dropin(self):
        # the drop-in's [Service] lines appended: what systemd would merge
        unit = read(os.path.join(self.units, "caller-echo.service"))
        dropin = read(os.path.join(self.share, "low-port.conf"))
        body = dropin.split("[Service]\n", 1)[1]
        self.assertEqual(re.findall(r"^(\w+)=", body, re.M),
                         ["CapabilityBoundingSet", "AmbientCapabilities"])
        unit = unit.replace("\n[Install]\n", "\n" + body + "\n[Install]\n")
        path = os.path.join(self.root, "caller-echo-lowport.service")
        with open(path, "w") as f:
            f.write(unit)
        self.assertEqual(verify(path), (0, ""))

    def test_verify_catches_a_typo(self):
        unit = read(os.path.join(self.units, "caller-echo.service"))
        path = os.path.join(self.root, "caller-echo-typo.service")
        with open(path, "w") as f:
            f.write(unit.replace("ProtectSystem=strict", "ProtectSystem=strickt"))
        rc, out = verify(path)
        self.assertIn("strickt", out)

    def test_exposure_is_low(self):
        # systemd's own 0 (locked down) .. 10 (unprotected) score; fails above 2.5
        p = subprocess.run([SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=25",
                            "--no-pager", os.path.join(self.units, "caller-echo.service")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out[-2000:])
        self.assertRegex(out, r"Overall exposure level for caller-echo\.service: [0-2]\.\d")

    def test_installed_binary_runs_from_the_example_env(self):
        env = {}
        for line in read(os.path.join(self.root, "etc", "caller-echo", "caller-echo.env")).splitlines():
            if line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
        self.assertEqual(env["VONAGE_SIGNATURE_SECRET"], "", "the example must not ship a secret")
        bin_ = os.path.join(self.root, "usr", "bin", "caller-echo")
        # as shipped: refuses to start (exit 2, which the unit does not restart on)
        p = subprocess.run([bin_], env=clean_env(env), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
        self.assertEqual(p.returncode, 2, p.stderr.decode())
        self.assertIn("RestartPreventExitStatus=2",
                      read(os.path.join(self.units, "caller-echo.service")))
        env["VONAGE_SIGNATURE_SECRET"] = "s" * 40
        env["PORT"] = str(free_port())
        args = env.pop("CALLER_ECHO_ARGS").split()
        proc = subprocess.Popen([bin_] + args, env=clean_env(env), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            status = 0
            for _ in range(100):
                status = curl(["http://127.0.0.1:%s/healthz" % env["PORT"]], timeout=2)[0]
                if status == 200 or proc.poll() is not None:
                    break
                subprocess.run(["sleep", "0.05"])
            self.assertEqual(status, 200)
            status, _, body = curl(["http://127.0.0.1:%s/webhooks/answer" % env["PORT"]])
            self.assertEqual(status, 200)
            self.assertIn(b'"wss://echo.example.com/socket"', body)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    unittest.main()
