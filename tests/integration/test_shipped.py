"""
test_shipped.py -- the "behind nginx" deployment exactly as shipped, attacked
from outside (issue 19, finding 1).

The files under test are used as they are: scripts/systemd/caller-echo.env
(only the signature secret filled in, the one line the operator must edit),
the environment lines of scripts/systemd/caller-echo.service.in, the nginx
site scripts/nginx/caller-echo.conf included unchanged (listen 443, the
/etc/letsencrypt certificate paths, upstream 127.0.0.1:8080), and the
fail2ban filter and jail. To let them be what they say, everything runs in a
private network and mount namespace (unshare): nginx really listens on 443,
/etc and /var/lib are overlays (a certificate for echo.example.com is put
where the site expects it; the unit's state directory exists), and the
"internet" is 198.51.100.0/24 on the namespace's loopback device.

From 198.51.100.2 through nginx: the admin API with Host: localhost (and
path tricks) never answers, the counters are denied, a flood of bad tokens
is charged to 198.51.100.2 (not 127.0.0.1): the server blocks it, fail2ban's
filter matches it and the jail does not ignore it; the same requests sent to
the instance directly as nginx would forward them are refused by the server
itself; an honest call through nginx meanwhile loses nothing.
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

from harness import HERE, REPO, clean_env, required

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


@required(NGINX and shutil.which("fail2ban-regex"),
          "nginx or fail2ban missing: scripts/deps.sh test installs them")
@unittest.skipUnless(os.geteuid() == 0, "needs root for unshare --mount and port 443 (CI runs as root)")
class BehindNginxAsShipped(unittest.TestCase):

    def test_outside_attacker_gets_nothing(self):
        code = "HERE_DIR = %r\nREPO = %r\n" % (HERE, REPO) + INNER
        p = subprocess.run(["unshare", "--net", "--mount", "--propagation", "private", sys.executable, "-c", code],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240, env=clean_env(), cwd=HERE)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-4000:])
        out = json.loads(p.stdout.decode().strip().splitlines()[-1])
        diag = json.dumps(out, indent=1)[:6000]
        self.assertEqual(out["env"], {"LISTEN": "127.0.0.1", "PORT": "8080", "TRUSTED_PROXIES": "127.0.0.1",
                                      "LOG_FORMAT": "json"}, diag)
        # the admin API through nginx: never, whatever the Host or path
        for what, status in out["admin_via_nginx"].items():
            self.assertIn(status, (403, 404), "%s: %s" % (what, diag))
        for what, status in out["views_via_nginx"].items():
            self.assertEqual(status, 403, "%s: %s" % (what, diag))
        # had nginx let them through, the server refuses them itself
        for what, status in out["admin_as_forwarded"].items():
            self.assertEqual(status, 403, "%s: %s" % (what, diag))
        self.assertEqual(out["blocks_before_flood"], [], diag)
        # the flood is charged to the real client, which is blocked
        self.assertEqual(out["blocks"], [["198.51.100.2/32", "auto"]], diag)
        self.assertEqual(out["after_block"], 403, diag)
        self.assertGreaterEqual(out["f2b_matched"].get("198.51.100.2", 0), 10, diag)
        # the one loopback line is this test's own forwarded-127.0.0.1 request
        # (a client of nginx's on this host), which the jail ignores
        self.assertLessEqual(out["f2b_matched"].get("127.0.0.1", 0), 1, diag)
        self.assertEqual(set(out["f2b_matched"]) - {"198.51.100.2", "127.0.0.1"}, set(), diag)
        self.assertFalse(out["jail_ignores_attacker"], diag)
        self.assertTrue(out["jail_ignores_loopback"], diag)
        self.assertEqual(out["untrusted_proxy_lines"], 0, diag)
        self.assertEqual(out["honest"], {"connected": 1, "done": 1, "failed": 0, "lost": 0, "mismatched": 0,
                                         "stalled": 0, "echo_ok": True}, diag)
        self.assertEqual(out["sanitizer"], [], diag)


INNER = r'''
import json, os, re, signal, subprocess, sys, tempfile, time
sys.path.insert(0, HERE_DIR)
from harness import BIN, SANITIZER, SANITIZER_ENV, clean_env, curl, make_jwt, sanitizer_findings
from attack import read_head, upgrade_request
import socket

def run(*a):
    subprocess.run(list(a), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

out = {}
T = tempfile.mkdtemp(prefix="caller-echo-shipped-")
os.chmod(T, 0o755)
# the namespace's network: loopback, nginx's public address and one outside client
run("ip", "link", "set", "lo", "up")
run("ip", "addr", "add", "198.51.100.1/32", "dev", "lo")
run("ip", "addr", "add", "198.51.100.2/32", "dev", "lo")
# /etc and /var/lib as overlays: what is written here stays in this namespace
for d in ("/etc", "/var/lib"):
    u, w = os.path.join(T, "upper" + d.replace("/", "_")), os.path.join(T, "work" + d.replace("/", "_"))
    os.makedirs(u); os.makedirs(w)
    run("mount", "-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (d, u, w), d)

# a certificate for echo.example.com where the site looks for it
live = "/etc/letsencrypt/live/echo.example.com"
os.makedirs(live)
run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=echo.example.com", "-addext", "subjectAltName=DNS:echo.example.com",
    "-keyout", live + "/privkey.pem", "-out", live + "/fullchain.pem")

# the server as the unit starts it: EnvironmentFile (the shipped env file,
# the secret filled in), then the unit's own Environment= lines, StateDirectory
env = {}
for line in open(os.path.join(REPO, "scripts/systemd/caller-echo.env")):
    line = line.strip()
    if line and not line.startswith("#"):
        k, v = line.split("=", 1)
        env[k] = v
out["env"] = {k: env.get(k) for k in ("LISTEN", "PORT", "TRUSTED_PROXIES", "LOG_FORMAT")}
secret = os.urandom(24).hex()
env["VONAGE_SIGNATURE_SECRET"] = secret
unit = open(os.path.join(REPO, "scripts/systemd/caller-echo.service.in")).read()
for m in re.finditer(r"(?m)^Environment=(\w+)=(\S*)$", unit):
    env[m.group(1)] = m.group(2)
sd = re.search(r"(?m)^StateDirectory=(\S+)$", unit).group(1)
os.makedirs("/var/lib/" + sd, mode=0o700)
exec_args = env.pop("CALLER_ECHO_ARGS", "").split()
srv_env = clean_env(env)
if SANITIZER == "asan":
    srv_env.update(SANITIZER_ENV)
errf = open(os.path.join(T, "server.log"), "w+")
srv = subprocess.Popen([BIN] + exec_args, env=srv_env, stdout=subprocess.DEVNULL, stderr=errf)
for _ in range(200):
    if curl(["http://127.0.0.1:8080/healthz"], timeout=2)[0] == 200:
        break
    time.sleep(0.05)

# nginx with the site file included unchanged
ng = os.path.join(T, "nginx")
os.makedirs(ng)
os.chmod(ng, 0o755)
with open(os.path.join(ng, "nginx.conf"), "w") as f:
    f.write("""user nobody nogroup;
worker_processes 1;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log info;
events { worker_connections 256; }
http {
    access_log %(d)s/access.log;
    client_body_temp_path %(d)s/body;
    proxy_temp_path %(d)s/proxy;
    fastcgi_temp_path %(d)s/fastcgi;
    uwsgi_temp_path %(d)s/uwsgi;
    scgi_temp_path %(d)s/scgi;
    include %(site)s;
}
""" % {"d": ng, "site": os.path.join(REPO, "scripts/nginx/caller-echo.conf")})
nginx_bin = "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else "nginx"
run(nginx_bin, "-p", ng, "-c", os.path.join(ng, "nginx.conf"), "-t")
ngp = subprocess.Popen([nginx_bin, "-p", ng, "-c", os.path.join(ng, "nginx.conf"), "-g", "daemon off;"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
FRONT = "https://echo.example.com"
RES = ["--resolve", "echo.example.com:443:198.51.100.1", "--cacert", live + "/fullchain.pem"]
for _ in range(200):
    if curl(RES + [FRONT + "/healthz"], timeout=2)[0] == 200:
        break
    time.sleep(0.05)

def outside(path, headers=(), method="GET", body=None):
    args = RES + ["--interface", "198.51.100.2", "-X", method, "--path-as-is"]
    for k, v in headers:
        args += ["-H", "%s: %s" % (k, v)]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", body]
    return curl(args + [FRONT + path])[0]

def direct(path, headers=(), method="GET", body=None):
    args = ["-X", method]
    for k, v in headers:
        args += ["-H", "%s: %s" % (k, v)]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", body]
    return curl(args + ["http://127.0.0.1:8080" + path])

try:
    # an honest caller through nginx, from outside, for the whole attack
    sim = os.path.join(REPO, "build", "caller-sim")
    sim_env = clean_env({"VONAGE_SIGNATURE_SECRET": secret})
    honest = subprocess.Popen([sim, "--ws-url", "wss://198.51.100.1/socket", "--insecure", "--duration", "6",
                               "--json", "--quiet", "--connect-timeout", "5000"], env=sim_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    admin = {}
    blk = '{"cidr":"0.0.0.0/0"}'
    for host in ("localhost", "127.0.0.1", "127.0.0.1:8080", "[::1]", "echo.example.com"):
        admin["GET blocks Host " + host] = outside("/admin/blocks", [("Host", host)])
        admin["POST block Host " + host] = outside("/admin/block", [("Host", host)], "POST", blk)
    for path in ("/admin", "/admin/", "/ADMIN/blocks", "//admin/blocks", "/%61dmin/blocks", "/./admin/blocks",
                 "/x/../admin/blocks", "/admin%2Fblocks", "/admin/blocks?x=1", "/admin;/blocks"):
        admin["GET " + path] = outside(path, [("Host", "localhost")])
    out["admin_via_nginx"] = admin
    out["views_via_nginx"] = {p: outside(p, [("Host", "localhost")]) for p in ("/stats", "/stats.json", "/metrics")}
    # what the instance answers if a request got past nginx's deny, with
    # the headers the shipped site adds
    fwd = [("Host", "localhost"), ("X-Forwarded-For", "198.51.100.2"), ("X-Forwarded-Proto", "https")]
    out["admin_as_forwarded"] = {
        "GET blocks": direct("/admin/blocks", fwd)[0],
        "POST block": direct("/admin/block", fwd, "POST", blk)[0],
        "GET blocks, forwarded loopback": direct("/admin/blocks", [("Host", "localhost"),
                                                                   ("X-Forwarded-For", "127.0.0.1")])[0],
        "stats.json": direct("/stats.json", fwd)[0],
        "metrics": direct("/metrics", fwd)[0],
    }
    out["blocks_before_flood"] = json.loads(direct("/admin/blocks")[2])["blocks"]
    # a flood of forged tokens from outside: strikes against 198.51.100.2
    bad = make_jwt(b"not-the-secret-" + b"x" * 30)
    import ssl
    ctx = ssl.create_default_context(cafile=live + "/fullchain.pem")
    def up(token):
        s = socket.socket()
        s.bind(("198.51.100.2", 0))
        s.settimeout(5)
        s.connect(("198.51.100.1", 443))
        t = ctx.wrap_socket(s, server_hostname="echo.example.com")
        try:
            t.sendall(upgrade_request(token=token, host="echo.example.com"))
            return read_head(t, 5)[0]
        finally:
            t.close()
    codes = [up(bad) for _ in range(25)]
    out["flood_codes"] = sorted(set(codes))
    out["blocks"] = [[b["cidr"], b["source"]] for b in json.loads(direct("/admin/blocks")[2])["blocks"]]
    out["after_block"] = up(make_jwt(secret.encode()))
    o, e = honest.communicate(timeout=30)
    try:
        r = json.loads(o.decode().strip().splitlines()[-1])
        out["honest"] = {k: r[k] for k in ("connected", "done", "failed", "lost", "mismatched", "stalled")}
        out["honest"]["echo_ok"] = r["echoed"] == r["sent"] == 300
    except Exception:
        out["honest"] = {"stdout": o.decode()[-500:], "stderr": e.decode()[-500:]}
finally:
    ngp.send_signal(signal.SIGQUIT)
    ngp.wait(10)
    srv.send_signal(signal.SIGTERM)
    try:
        srv.wait(10)
    except subprocess.TimeoutExpired:
        srv.send_signal(signal.SIGINT)
        srv.wait(10)

errf.seek(0)
log = errf.read()
out["untrusted_proxy_lines"] = log.count('"event":"untrusted_proxy"')
out["sanitizer"] = sanitizer_findings(log) if SANITIZER == "asan" else []
# fail2ban: the shipped filter over what the server wrote; the jail's ignoreip
flt = os.path.join(REPO, "scripts/fail2ban/filter.d/caller-echo.conf")
p = subprocess.run(["fail2ban-regex", "-o", "ip", errf.name, flt], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, timeout=120)
matched = {}
for ip in p.stdout.decode().split():   # the addresses fail2ban would count (and ban)
    matched[ip] = matched.get(ip, 0) + 1
out["f2b_matched"] = matched
import ipaddress
jail = open(os.path.join(REPO, "scripts/fail2ban/jail.d/caller-echo.conf")).read()
ign = re.search(r"(?m)^ignoreip\s*=\s*(.*)$", jail).group(1).split()
nets = [ipaddress.ip_network(x, strict=False) for x in ign]
out["jail_ignores_attacker"] = any(ipaddress.ip_address("198.51.100.2") in n for n in nets if n.version == 4)
out["jail_ignores_loopback"] = any(ipaddress.ip_address("127.0.0.1") in n for n in nets if n.version == 4)
print(json.dumps(out))
'''


if __name__ == "__main__":
    unittest.main()
