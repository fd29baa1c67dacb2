"""bench.py -- what `make bench` runs: caller-echo and a plain libwebsockets
echo under the same simulated Vonage load, numbers into one table.

Server pinned to core 0, caller-sim to core 1 (taskset). For each server and
event loop:
  * paced runs: N concurrent 24 kHz calls (960-byte frames every 20 ms), held
    for WINDOW seconds after the ramp; server CPU and RSS are sampled over that
    window only. Each N is run RUNS times and every run is printed; a run
    "holds" when every call connected and nothing was lost or mismatched and
    RTT p99 <= 20 ms. An N holds when the median run does.
  * flood: 100 calls, 8 frames in flight each, no pacing; echoed frames per
    server CPU-second, the fairest single figure of server cost per frame.
  * SERVERS may name caller-echo-tls: the same server over wss, with the
    certificate scripts/gen-certs.sh makes (caller-sim verifies it with
    --cafile); the rows are labelled so. With UWS_ECHO set to a uws-echo
    binary (bench/uws/build.sh builds one from a uWebSockets snapshot kept
    outside this tree) SERVERS may also name uws and uws-tls: the same load
    against uWebSockets, JWT checked at upgrade as ours does.
  * RSS per call is (RSS with N calls - RSS after a 5-call warm-up) / N:
    what each call adds. The first calls pull in one-off memory (libcrypto's
    HMAC code pages for the first JWT, allocator arenas) that is not per
    call; idle RSS is still measured before them.

  * operator view at load (caller-echo, its default loop): VIEW_N calls held
    for WINDOW seconds while nothing, /stats.json (the default view: 50
    worst calls), /stats.json?calls=all or the /stats page is fetched
    VIEW_HZ times a second; the time of each request as the client saw it,
    and the echo RTT and late frames of the calls meanwhile.

Environment knobs (defaults in brackets):
  RUNS [3]  WINDOW [15]  NS [100,500,1000,1500,2000]  LOOPS [poll,libev,libuv]
  SERVERS [caller-echo,minimal-echo]  FLOOD_S [10]  OUT [build/bench/results.md]
  VIEW_N [2000]  VIEW_HZ [5]  VIEWS [none,healthz,json,json_all,page] (healthz: what any request costs)
  (a list set empty skips its part: SERVERS= VIEWS=json runs only that)
  CALLER_ECHO_BIN [build/caller-echo]: another build to measure (before/after)
  UWS_ECHO []: a uws-echo binary, for SERVERS uws and uws-tls
  SERVER_ARGS []: more caller-echo options (e.g. "--ring-slots 2")
Usage: /usr/bin/python3 scripts/bench.py   (after `make all sim bench-bin`)
"""
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
SERVER_CORE, SIM_CORE = "0", "1"
RAMP = 500          # calls started per second
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def env_list(name, default):
    """A comma list from the environment; set but empty means none (skip that part)."""
    v = os.environ.get(name)
    return default if v is None else [x for x in v.split(",") if x]


RUNS = int(os.environ.get("RUNS", "3"))
WINDOW = int(os.environ.get("WINDOW", "15"))
NS = [int(x) for x in env_list("NS", ["100", "500", "1000", "1500", "2000"])]
LOOPS = env_list("LOOPS", ["poll", "libev", "libuv"])
SERVERS = env_list("SERVERS", ["caller-echo", "minimal-echo"])
FLOOD_S = int(os.environ.get("FLOOD_S", "10"))
OUT = os.environ.get("OUT", os.path.join(BUILD, "bench", "results.md"))
VIEW_N = int(os.environ.get("VIEW_N", "2000"))
VIEW_HZ = float(os.environ.get("VIEW_HZ", "5"))
VIEWS = env_list("VIEWS", ["none", "healthz", "json", "json_all", "page"])
CALLER_ECHO_BIN = os.environ.get("CALLER_ECHO_BIN") or os.path.join(BUILD, "caller-echo")
UWS_ECHO = os.environ.get("UWS_ECHO", "")
VIEW_PATHS = {"healthz": "/healthz", "json": "/stats.json", "json_all": "/stats.json?calls=all", "page": "/stats"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ   # utime + stime


def rss_kib(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE // 1024


class Server:
    """One server process on core 0, on a fresh port."""

    def __init__(self, kind, loop, secret_file, flood=False):
        self.port = free_port()
        if kind in ("caller-echo", "caller-echo-tls"):
            binary = CALLER_ECHO_BIN
            cmd = [binary, "--listen", "127.0.0.1", "--port", str(self.port),
                   "--secret-file", secret_file, "--log-level", "warn", "--max-calls", "4000",
                   "--event-loop", loop,
                   # one simulator address plays every media server, and the
                   # flood runs are over real time on purpose: the per-address
                   # and per-call limits would measure themselves instead
                   "--limit-exempt", "127.0.0.0/8", "--max-msg-rate", "0"]
            # ... and so is the echo app's burst budget (paced runs keep it:
            # it is the default and costs its few instructions per frame)
            if flood and "--echo-max-ms" in subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                                                           text=True).stdout:
                cmd += ["--echo-max-ms", "0"]
            cmd += os.environ.get("SERVER_ARGS", "").split()
            self.url = f"http://127.0.0.1:{self.port}/webhooks/answer"
            if kind == "caller-echo-tls":
                cmd += ["--tls-cert", CERT, "--tls-key", KEY]
                self.url = f"https://127.0.0.1:{self.port}/webhooks/answer"
        elif kind in ("uws", "uws-tls"):
            # its own epoll loop whatever LOOPS says; the secret as ours reads it
            cmd = [UWS_ECHO, str(self.port), secret_file] + ([CERT, KEY] if kind == "uws-tls" else [])
            self.url = None
        else:
            cmd = [os.path.join(BUILD, "minimal-echo"), str(self.port), loop]
            self.url = None
        self.tls = kind.endswith("-tls")
        self.ws = f"{'wss' if self.tls else 'ws'}://127.0.0.1:{self.port}/socket"
        self.log = open(os.path.join(BUILD, "bench", f"{kind}-{loop}.log"), "ab")
        self.proc = subprocess.Popen(["taskset", "-c", SERVER_CORE] + cmd, stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"{kind} ({loop}) did not start")
        time.sleep(0.2)
        self.idle_rss = rss_kib(self.proc.pid)
        self.warm_rss = None

    def warm_up(self, secret_file):
        """Five short calls, so the one-off memory of the first calls is not
        counted per call; returns the RSS after them."""
        subprocess.run(sim_cmd(self, secret_file, ["--calls", "5", "--ramp", "0", "--duration", "1"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        time.sleep(0.3)
        self.warm_rss = rss_kib(self.proc.pid)
        return self.warm_rss

    def stop(self):
        # the minimal echo under libev only listens to SIGINT; SIGKILL after that
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


CERT, KEY = os.path.join(ROOT, "certs", "server.crt"), os.path.join(ROOT, "certs", "server.key")


def sim_cmd(server, secret_file, args):
    base = ["taskset", "-c", SIM_CORE, os.path.join(BUILD, "caller-sim"), "--json", "--quiet",
            "--secret-file", secret_file]
    if server.tls:
        base += ["--cafile", CERT]
    target = [server.url] if server.url else ["--ws-url", server.ws]
    return base + args + target


def start_paced(srv, n, secret_file):
    """caller-sim with n paced calls that outlast the ramp and WINDOW; returns
    (sim, duration) once every call should be streaming."""
    ramp_s = n / RAMP
    duration = ramp_s + WINDOW + 2
    sim = subprocess.Popen(sim_cmd(srv, secret_file, ["--calls", str(n), "--ramp", str(RAMP),
                                                      "--duration", f"{duration:.1f}"]),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(ramp_s + 1)
    return sim, duration


def paced_run(kind, loop, n, secret_file):
    srv = Server(kind, loop, secret_file)
    srv.warm_up(secret_file)
    sim, duration = start_paced(srv, n, secret_file)
    c0, t0 = cpu_seconds(srv.proc.pid), time.time()
    time.sleep(WINDOW / 2)
    rss = rss_kib(srv.proc.pid)
    time.sleep(WINDOW / 2)
    c1, t1 = cpu_seconds(srv.proc.pid), time.time()
    out, err = sim.communicate(timeout=duration + 60)
    srv.stop()
    try:
        r = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {"connected": 0, "lost": -1, "mismatched": -1, "late": -1,
             "rtt_ms": {"p50": -1, "p99": -1, "max": -1}, "cpu_pct": -1,
             "send_lag_ms": {"p99": -1}, "error": err.decode()[-300:]}
    r["server_cpu_pct"] = 100 * (c1 - c0) / (t1 - t0)
    r["rss_kib"] = rss
    r["idle_rss_kib"] = srv.idle_rss
    r["warm_rss_kib"] = srv.warm_rss
    r["rss_per_call_kib"] = (rss - srv.warm_rss) / n
    r["held"] = (r.get("connected") == n and r.get("lost") == 0 and r.get("mismatched") == 0
                 and 0 <= r["rtt_ms"]["p99"] <= 20)
    return r


def flood_run(kind, loop, secret_file):
    srv = Server(kind, loop, secret_file, flood=True)
    sim = subprocess.Popen(sim_cmd(srv, secret_file, ["--calls", "100", "--ramp", "0", "--flood", "8",
                                                      "--duration", str(FLOOD_S)]),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    c0 = cpu_seconds(srv.proc.pid)
    out, err = sim.communicate(timeout=FLOOD_S + 60)
    c1 = cpu_seconds(srv.proc.pid)
    srv.stop()
    try:
        r = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"echoed": 0, "per_cpu_s": 0, "error": err.decode()[-300:]}
    r["server_cpu_s"] = c1 - c0
    r["per_cpu_s"] = r["echoed"] / (c1 - c0) if c1 > c0 else 0
    return r


def view_run(view, secret_file):
    """VIEW_N paced calls; meanwhile one client fetches a view VIEW_HZ times a second."""
    import http.client
    srv = Server("caller-echo", "libev", secret_file)
    sim, duration = start_paced(srv, VIEW_N, secret_file)
    took, sizes = [], []
    c0, t0 = cpu_seconds(srv.proc.pid), time.time()
    end = time.monotonic() + WINDOW
    while time.monotonic() < end:
        t = time.monotonic()
        if view != "none":
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            c.request("GET", VIEW_PATHS[view])
            body = c.getresponse().read()
            c.close()
            took.append((time.monotonic() - t) * 1000)
            sizes.append(len(body))
        time.sleep(max(0.0, 1 / VIEW_HZ - (time.monotonic() - t)))
    c1, t1 = cpu_seconds(srv.proc.pid), time.time()
    out, err = sim.communicate(timeout=duration + 60)
    srv.stop()
    try:
        r = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        r = {"connected": 0, "lost": -1, "late": -1, "rtt_ms": {"p50": -1, "p99": -1, "max": -1}}
    r["server_cpu_pct"] = 100 * (c1 - c0) / (t1 - t0)
    took.sort()
    r["req_ms"] = (statistics.median(took), took[int(len(took) * 0.99)]) if took else (0, 0)
    r["kib"] = statistics.median(sizes) / 1024 if sizes else 0
    return r


def loops_for(kind):
    """uWebSockets runs its own epoll loop: one row set, whatever LOOPS says."""
    return ["epoll"] if kind.startswith("uws") else LOOPS


def side_by_side(emit, summary, flood):
    """One column per server: the issue-15 table, from this run's medians
    (caller-echo on the first loop of LOOPS, its default when LOOPS=libev)."""
    cols = [(k, loops_for(k)[0]) for k in SERVERS]
    emit()
    emit(f"## Side by side (medians of {RUNS}, each run in brackets; every run is in the tables above)")
    emit()
    emit("| measure | " + " | ".join(f"{k} ({l})" for k, l in cols) + " |")
    emit("|---|" + "---|" * len(cols))

    def paced(n, f, fmt):
        out = []
        for k, l in cols:
            runs = summary.get((k, l, n))
            out.append(fmt % statistics.median(f(r) for r in runs) + " (" +
                       " / ".join(fmt % f(r) for r in runs) + ")" if runs else "-")
        return " | ".join(out)
    if flood:
        emit("| flood, 100 calls x 8 in flight: echoes per server CPU-second | " +
             " | ".join(f"{statistics.median(flood[(k, l)]) / 1000:.0f}k (" +
                        " / ".join(f"{x / 1000:.0f}k" for x in flood[(k, l)]) + ")" if (k, l) in flood else "-"
                        for k, l in cols) + " |")
    for n in NS:
        emit(f"| {n:,} paced calls: server CPU % | " + paced(n, lambda r: r["server_cpu_pct"], "%.0f") + " |")
        emit(f"| {n:,} paced calls: RTT p99 ms | " + paced(n, lambda r: r["rtt_ms"]["p99"], "%.2f") + " |")
        emit(f"| {n:,} paced calls: frames lost | " +
             paced(n, lambda r: r.get("lost", -1), "%d") + " |")
        emit(f"| {n:,} paced calls: caller-sim CPU % (over ~90: the client is the limit) | " +
             paced(n, lambda r: r.get("cpu_pct", -1), "%.0f") + " |")
        emit(f"| RSS per call at {n:,} calls, KiB | " + paced(n, lambda r: r["rss_per_call_kib"], "%.1f") + " |")
    emit("| idle RSS MiB | " + paced(NS[0], lambda r: r["idle_rss_kib"] / 1024, "%.1f") + " |")


def fmt_paced(kind, loop, n, i, r):
    return (f"| {kind} | {loop} | {n} | {i} | {r.get('connected')} | {r.get('lost')} | {r.get('mismatched')} | "
            f"{r['rtt_ms']['p50']:.2f} | {r['rtt_ms']['p99']:.2f} | {r['rtt_ms']['max']:.1f} | {r.get('late')} | "
            f"{r['server_cpu_pct']:.0f} | {r['rss_kib'] / 1024:.1f} | {r['rss_per_call_kib']:.1f} | "
            f"{r.get('cpu_pct', -1):.0f} | {r['send_lag_ms']['p99']:.2f} | {'yes' if r['held'] else 'NO'} |")


def main():
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)   # secret and server logs, whatever OUT is
    if any(k.startswith("uws") for k in SERVERS) and not (UWS_ECHO and os.access(UWS_ECHO, os.X_OK)):
        sys.exit("SERVERS names uws: set UWS_ECHO to a uws-echo binary (bench/uws/build.sh)")
    if any(k.endswith("-tls") for k in SERVERS):
        subprocess.run([os.path.join(ROOT, "scripts", "gen-certs.sh")], check=True)
    secret_file = os.path.join(BUILD, "bench", "secret")
    with open(secret_file, "w") as f:
        f.write(os.urandom(32).hex())
    lines = []

    def emit(s=""):
        print(s, flush=True)
        lines.append(s)

    emit(f"# caller-echo benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    emit()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    emit(f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; "
         f"server on core {SERVER_CORE}, caller-sim on core {SIM_CORE}. "
         f"RUNS={RUNS} WINDOW={WINDOW}s ramp {RAMP}/s.")
    emit()
    emit("## Paced 24 kHz calls")
    emit()
    emit("| server | loop | N | run | connected | lost | mismatched | RTT p50 ms | p99 ms | max ms | late | "
         "server CPU % | RSS MiB | RSS/call KiB | sim CPU % | sim lag p99 ms | held |")
    emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for kind in SERVERS:
        for loop in loops_for(kind):
            for n in NS:
                runs = [paced_run(kind, loop, n, secret_file) for _ in range(RUNS)]
                for i, r in enumerate(runs, 1):
                    emit(fmt_paced(kind, loop, n, i, r))
                summary[(kind, loop, n)] = runs
    emit()
    emit("## Medians of the runs")
    emit()
    emit("| server | loop | largest N held | p99 ms at 1000 | server CPU % at 1000 | RSS/call KiB at 1000 | idle RSS MiB |")
    emit("|---|---|---|---|---|---|---|")
    for kind in SERVERS:
        for loop in loops_for(kind):
            held = [n for n in NS if sum(r["held"] for r in summary[(kind, loop, n)]) * 2 > RUNS]
            at = summary.get((kind, loop, 1000))
            med = (lambda f: statistics.median(f(r) for r in at)) if at else None
            emit(f"| {kind} | {loop} | {max(held) if held else 'none'} | "
                 f"{med(lambda r: r['rtt_ms']['p99']):.2f} | {med(lambda r: r['server_cpu_pct']):.0f} | "
                 f"{med(lambda r: r['rss_per_call_kib']):.1f} | "
                 f"{med(lambda r: r['idle_rss_kib']) / 1024:.1f} |" if at else
                 f"| {kind} | {loop} | {max(held) if held else 'none'} | - | - | - | - |")
    emit()
    emit("## Flood: 100 calls, 8 frames in flight, no pacing")
    emit()
    emit("| server | loop | run | echoed | lost | mismatched | server CPU s | echoes per server CPU-s | sim CPU % |")
    emit("|---|---|---|---|---|---|---|---|---|")
    flood = {}
    for kind in SERVERS:
        for loop in loops_for(kind):
            rs = [flood_run(kind, loop, secret_file) for _ in range(RUNS)]
            for i, r in enumerate(rs, 1):
                emit(f"| {kind} | {loop} | {i} | {r.get('echoed')} | {r.get('lost')} | {r.get('mismatched')} | "
                     f"{r.get('server_cpu_s', 0):.2f} | {r['per_cpu_s']:.0f} | {r.get('cpu_pct', -1):.0f} |")
            flood[(kind, loop)] = [r["per_cpu_s"] for r in rs]
    emit()
    med = {k: statistics.median(v) for k, v in flood.items()}
    for loop in LOOPS:
        if ("caller-echo", loop) in med and ("minimal-echo", loop) in med and med[("minimal-echo", loop)]:
            emit(f"- flood, {loop}: caller-echo {med[('caller-echo', loop)]:.0f} vs minimal-echo "
                 f"{med[('minimal-echo', loop)]:.0f} echoes per server CPU-second: "
                 f"{med[('caller-echo', loop)] / med[('minimal-echo', loop)]:.2f}x")
    if len(SERVERS) > 1:
        side_by_side(emit, summary, flood)
    if VIEWS:
        emit()
        emit(f"## Operator view at load: {VIEW_N} paced calls, one client fetching {VIEW_HZ:g} times a second")
        emit()
        emit("| fetched | run | connected | lost | RTT p50 ms | p99 ms | max ms | late | server CPU % | "
             "response KiB | request ms median | request ms p99 |")
        emit("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for view in VIEWS:
            for i in range(1, RUNS + 1):
                r = view_run(view, secret_file)
                emit(f"| {VIEW_PATHS.get(view, 'nothing')} | {i} | {r.get('connected')} | {r.get('lost')} | "
                     f"{r['rtt_ms']['p50']:.2f} | {r['rtt_ms']['p99']:.2f} | {r['rtt_ms']['max']:.1f} | "
                     f"{r.get('late')} | {r.get('server_cpu_pct', -1):.0f} | {r.get('kib', 0):.1f} | "
                     f"{r['req_ms'][0]:.2f} | {r['req_ms'][1]:.2f} |")
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\nwritten to {OUT}")


if __name__ == "__main__":
    sys.exit(main())
