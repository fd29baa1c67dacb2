"""
nodeclient.py -- run tests/integration/node/client.js: a call through an npm
WebSocket library (ws, or websocket -- the two behave differently at the
edges: "websocket" half-closes TCP right after its close frame).

The libraries are installed by scripts/deps.sh test (npm ci in
tests/integration/node, from its package-lock.json), so they are there for
every `make test`; a missing install is a failure, not a skip.
"""
import json
import os
import subprocess

from harness import HERE

NODE_DIR = os.path.join(HERE, "node")
CLIENT = os.path.join(NODE_DIR, "client.js")


def node_call(url, lib="ws", token=None, protocols=(), frames=10, size=640, close=1000, timeout=5.0,
              insecure=False, burst=False, linger=1.0):
    """Run one call; returns client.js's JSON report (a dict). burst: send
    the frames all at once and collect for linger seconds what comes back."""
    if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", lib)):
        raise AssertionError("npm package %r missing in %s: run scripts/deps.sh test" % (lib, NODE_DIR))
    argv = ["node", CLIENT, "--lib", lib, "--url", url, "--frames", str(frames), "--size", str(size),
            "--close", str(close), "--timeout", str(int(timeout * 1000))]
    if token:
        argv += ["--token", token]
    for p in protocols:
        argv += ["--protocol", p]
    if insecure:
        argv.append("--insecure")
    if burst:
        argv += ["--burst", "--linger", str(int(linger * 1000))]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout + 10,
                       cwd=NODE_DIR)
    if p.returncode != 0:
        raise AssertionError("client.js exited %d: %s" % (p.returncode, p.stderr.decode()[-2000:]))
    return json.loads(p.stdout.decode().strip().splitlines()[-1])
