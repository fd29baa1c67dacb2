"""
swap_driver.py -- one upgrade swap, measured (run by test_swap.py inside a
private network namespace, where it may set net.ipv4.tcp_migrate_req).

  old   caller-echo --reuse-port --worker-port A, with 200 calls streaming
        (caller-sim, paced 20 ms frames, every echo checked)
  +     a steady stream of new calls through the answer webhook, 20 a
        second, each one second long (a second caller-sim)
  new   the same server, --worker-port B, started mid-stream; once its
        /healthz answers, SIGTERM to old: old leaves the port and drains

Prints one JSON line: both simulators' reports, old's exit status and how
long after the SIGTERM it came, its log, and what each process counted.
Usage: swap_driver.py BIN SIM MIGRATE(0|1)
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, SIM, MIGRATE = sys.argv[1], sys.argv[2], sys.argv[3] == "1"


def sh(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(port, path, timeout=2):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


def wait_healthy(port, deadline=10):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if get(port, "/healthz")[0] == 200:
            return True
        time.sleep(0.05)
    return False


def main():
    sh("ip", "link", "set", "lo", "up")
    sh("sysctl", "-q", "-w", "net.ipv4.tcp_migrate_req=%d" % (1 if MIGRATE else 0))
    d = tempfile.mkdtemp(prefix="swap-")
    secret = os.urandom(24).hex()
    sf = os.path.join(d, "secret")
    with open(sf, "w") as f:
        f.write(secret)
    os.chmod(sf, 0o600)
    port, wa, wb = free_port(), free_port(), free_port()
    common = ["--listen", "127.0.0.1", "--port", str(port), "--reuse-port", "--secret-file", sf,
              "--replay-file", os.path.join(d, "replay"), "--drain-timeout", "60", "--max-calls", "1000",
              "--limit-exempt", "127.0.0.0/8"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    logs = {k: open(os.path.join(d, k + ".log"), "wb+") for k in ("old", "new")}
    old = subprocess.Popen([BIN] + common + ["--worker-port", str(wa), "--worker-id", "old"], env=env,
                           stdout=logs["old"], stderr=logs["old"])
    if not wait_healthy(wa):
        raise SystemExit("old did not start")
    url = "http://127.0.0.1:%d/webhooks/answer" % port
    sim_env = dict(env, VONAGE_SIGNATURE_SECRET=secret)
    sims = {}
    sims["long"] = subprocess.Popen([SIM, "--json", "--quiet", "--calls", "200", "--ramp", "400", "--duration", "7",
                                     url], env=sim_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)
    sims["steady"] = subprocess.Popen([SIM, "--json", "--quiet", "--calls", "100", "--ramp", "20", "--duration",
                                       "1", url], env=sim_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    new = subprocess.Popen([BIN] + common + ["--worker-port", str(wb), "--worker-id", "new"], env=env,
                           stdout=logs["new"], stderr=logs["new"])
    if not wait_healthy(wb):
        raise SystemExit("new did not start")
    before = json.loads(get(wa, "/stats.json")[1] or b"{}")
    t_term = time.monotonic()
    old.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    during = {"healthz": get(wa, "/healthz")[0], "stats": json.loads(get(wa, "/stats.json")[1] or b"{}")}
    out = {}
    for k, p in sims.items():
        o, e = p.communicate(timeout=60)
        out[k] = {"rc": p.returncode, "report": json.loads(o.decode().strip().splitlines()[-1]) if o.strip() else None,
                  "stderr": e.decode()[-2000:]}
    try:
        old_rc = old.wait(30)
    except subprocess.TimeoutExpired:
        old.kill()
        old_rc = "killed"
    old_after = time.monotonic() - t_term
    new_stats = json.loads(get(wb, "/stats.json")[1] or b"{}")
    new.send_signal(signal.SIGINT)
    new.wait(10)
    res = {"sims": out, "old_rc": old_rc, "old_exit_after_s": round(old_after, 2),
           "old_before": {"calls_open": before.get("totals", {}).get("connections_open"),
                          "calls_total": before.get("totals", {}).get("connections_total")},
           "old_during": {"healthz": during["healthz"],
                          "draining": during["stats"].get("draining"),
                          "calls_total": during["stats"].get("totals", {}).get("connections_total")},
           "new": {"calls_total": new_stats.get("totals", {}).get("connections_total"),
                   "rejected": {k: v for k, v in new_stats.get("rejected", {}).items() if v}}}
    for k, f in logs.items():
        f.seek(0)
        text = f.read().decode("utf-8", "replace")
        res[k + "_log"] = text[-4000:]
        # the lines about the swap itself, wherever they are in a long log
        res[k + "_events"] = [ln for ln in text.splitlines()
                              if "drain:" in ln or "shared port" in ln or "shutting down" in ln or "error" in ln]
    print(json.dumps(res))


if __name__ == "__main__":
    main()
