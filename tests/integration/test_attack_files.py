"""
test_attack_files.py -- issue 19 ("Security, round three"), findings 4 and 6,
attacked as described, with a second local user (`nobody`, through setpriv)
making the files and an honest call (honest.HonestCall) running on a live
server that must lose nothing:

  4 the jti table fixed at 16,384  sized from the config:   no 503 up to     replay_store.slots,
    whatever the load: signed      --call-rate (or          the design load  design_live, full;
    webhooks at the defaults'      --max-calls / 180) x 6                    rejected.
    sizing got 503 for thousands   tokens x (max age +                       replay_table_full
                                   leeway), 8 slots a token
    the block table (512) under a  says what it lost        counted, logged  admin.auto_blocks_
    flood from more addresses                                                evicted, /metrics
  6 a world-writable --replay-     owner and mode of every  exit 2, one      (start refused)
    file, one owned by another     state file and of each   line naming the
    user, one in a directory       directory above it, at   file, what was
    others can write, a planted    open; O_NOFOLLOW          found, what is
    lock owner, a zeroed magic                               needed
    a file planted at the block    new files created         the real file
    file's temporary name          exclusively under an     ours, 0600
                                   unguessable name
    a world-writable block file    refused at start          exit 2, /healthz
    with 0.0.0.0/0                                           never 403

The shipped unit's layout (DynamicUser: /var/lib/caller-echo a root-owned
link to private/caller-echo, owned by the transient user) is rebuilt under
/tmp and served by two workers running as that other user.

The file cases need root (to act as two users); they are skipped, with the
reason printed, only when the suite does not run as root. CI runs as root.
"""
import ctypes
import hashlib
import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from attack import read_head, upgrade, upgrade_request
from harness import Server, ServerStartError, curl, free_port, make_jwt, stats
from test_admin import admin
from test_attack_handshake import HandshakeCase

NOBODY = 65534          # uid and gid of Debian's nobody / nogroup
AS_NOBODY = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", "--"]
ROOT = os.geteuid() == 0
needs_root = unittest.skipUnless(ROOT, "needs root to act as two users (files made by nobody); CI runs as root")

MAGIC = 0x3156524C50594543   # "CEYPLRV1", replay_store.cpp
TMP_NAME = r"\.tmp-[0-9a-f]{16}$"


def as_nobody(code, *args):
    """Run Python code as nobody; returns (exit status, stdout, stderr)."""
    p = subprocess.run(AS_NOBODY + ["/usr/bin/python3", "-c", code] + [str(a) for a in args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30,
                       env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def state_dir(tc, mode=0o755, owner=0):
    """A fresh directory straight under /tmp (so nobody can reach it), removed after the test."""
    d = tempfile.mkdtemp(prefix="ce-files-", dir="/tmp")
    os.chmod(d, mode)
    os.chown(d, owner, owner)
    tc.addCleanup(shutil.rmtree, d, True)
    return d


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def refused_start(tc, args, **kw):
    """Start a server that must refuse to: (exit status, stderr)."""
    srv = Server(args=args, **kw)
    with tc.assertRaises(ServerStartError):
        srv.start()
    return srv.proc.returncode, srv.stderr_text()


def present(srv, token, src="127.0.0.2", port=None):
    """Upgrade with token; the HTTP status."""
    import socket
    s = socket.create_connection(("127.0.0.1", port or srv.port), timeout=5)
    try:
        s.sendall(upgrade_request(token=token))
        return read_head(s, 5)[0]
    finally:
        s.close()


# -- inotify through ctypes (the standard library has no binding) ------------
_libc = ctypes.CDLL(None, use_errno=True)
IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x40, 0x80, 0x100, 0x200


class DirWatch:
    """Every name created, deleted or renamed in a directory, in order."""

    def __init__(self, d):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if _libc.inotify_add_watch(self.fd, d.encode(), IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + d)
        self.events = []

    def poll(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.events
            off = 0
            while off < len(buf):
                _, mask, _, n = struct.unpack_from("iIII", buf, off)
                self.events.append((mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO),
                                    buf[off + 16:off + 16 + n].rstrip(b"\0").decode()))
                off += 16 + n

    def created(self, pattern):
        return [n for m, n in self.poll() if m == IN_CREATE and re.search(pattern, n)]

    def close(self):
        os.close(self.fd)


def wait_for(pred, timeout=5.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


# ---- finding 6: the replay file -----------------------------------------------

@needs_root
class ReplayFile(HandshakeCase):
    """A worker A serves from STATE/replay with an honest call; the attack
    makes or changes a replay file as nobody; the next worker (or a
    restart) is refused at start -- exit 2, one line -- and A loses nothing."""

    def setUp(self):
        self.dir = state_dir(self)
        self.path = os.path.join(self.dir, "replay")
        self.secret = os.urandom(24).hex().encode()
        self.a = Server(secret=self.secret, args=["--replay-file", self.path]).start()
        self.addCleanup(self.a.kill)
        self.call = self.start_honest(self.a, seconds=3.0)
        self.spent = make_jwt(self.secret)
        self.assertEqual(present(self.a, self.spent), 101)
        st = os.stat(self.path)
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o600))

    def refused(self, path, args=()):
        rc, err = refused_start(self, ["--replay-file", path] + list(args), secret=self.secret)
        self.assertEqual(rc, 2, err)
        return err

    def tearDown(self):
        # the running worker never noticed: its call is whole, its table too
        self.call.assert_clean(self)
        self.assertEqual(present(self.a, self.spent), 401)

    def test_world_writable_file_refused(self):
        os.chmod(self.path, 0o666)   # a careless deploy script
        # nobody can now write it: fill it, plant a lock owner, zero it
        rc, out, err = as_nobody("import os,sys; fd = os.open(sys.argv[1], os.O_WRONLY); print('open')", self.path)
        self.assertEqual((rc, out.strip()), (0, "open"), err)
        err = self.refused(self.path)
        self.assertIn("cannot start: --replay-file: %s is owned by uid 0 (root) with mode 0666; needed: owned by "
                      "root (this server's user), writable by neither group nor others\n" % self.path, err)
        # ... and the running worker says so too, within a second (and counts)
        wait_for(lambda: "replay_file_unsafe" in self.a.stderr_text() or
                 "another user can write it now" in self.a.stderr_text(), what="the unsafe-file log line")
        self.assertGreaterEqual(stats(self.a)["replay_store"]["file_unsafe"], 1)
        os.chmod(self.path, 0o600)

    def test_file_of_another_user_with_a_planted_lock_owner_refused(self):
        # another user takes the name first in a directory anyone may write
        # (sticky, like /tmp): a whole, valid-looking file whose lock names a
        # thread that never existed -- every handshake would wait, then 503
        d = state_dir(self, mode=0o1777)
        theirs = os.path.join(d, "replay")
        with open(self.path, "rb") as f:
            image = bytearray(f.read())
        struct.pack_into("<i", image, 32, 0x3ffffff0)   # the mutex's first word: its owner's TID
        src = os.path.join(d, "image")
        with open(src, "wb") as f:
            f.write(image)
        os.chmod(src, 0o644)
        rc, _, err = as_nobody("import shutil,os,sys; shutil.copyfile(sys.argv[1], sys.argv[2]); "
                               "os.chmod(sys.argv[2], 0o600)", src, theirs)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.stat(theirs).st_uid, NOBODY)
        before = digest(theirs)
        err = self.refused(theirs)
        self.assertIn("cannot start: --replay-file: %s is owned by uid 65534 (nobody) with mode 0600; needed: "
                      "owned by root (this server's user), writable by neither group nor others\n" % theirs, err)
        self.assertEqual(digest(theirs), before)   # left as it is
        # and nobody cannot plant one into ours: it is 0600 in a directory only root writes
        rc, _, _ = as_nobody("import os,sys; os.open(sys.argv[1], os.O_WRONLY)", self.path)
        self.assertNotEqual(rc, 0)

    def test_directory_others_can_write_refused(self):
        d = state_dir(self, mode=0o777)
        err = self.refused(os.path.join(d, "replay"))
        self.assertIn("cannot start: --replay-file: directory %s is owned by uid 0 (root) with mode 0777; needed: "
                      "owned by root (this server's user), writable by neither group nor others unless sticky "
                      "(like /tmp)\n" % d, err)
        self.assertEqual(os.listdir(d), [])   # nothing made there
        # a directory above ours counts too
        inner = os.path.join(d, "inner")
        os.mkdir(inner, 0o700)
        err = self.refused(os.path.join(inner, "replay"))
        self.assertIn("--replay-file: directory %s is owned by uid 0 (root) with mode 0777" % d, err)
        # sticky (like /tmp): our own file there is fine
        os.chmod(d, 0o1777)
        with Server(secret=self.secret, args=["--replay-file", os.path.join(d, "replay")]) as b:
            self.assertEqual(present(b, make_jwt(self.secret)), 101)
        st = os.stat(os.path.join(d, "replay"))
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (0, 0o600))

    def test_link_at_the_path_refused(self):
        d = state_dir(self, mode=0o1777)
        link = os.path.join(d, "replay")
        rc, _, err = as_nobody("import os,sys; os.symlink(sys.argv[1], sys.argv[2])", self.path, link)
        self.assertEqual(rc, 0, err)
        err = self.refused(link)
        self.assertIn("cannot start: --replay-file: %s is a symbolic link; a state file is never opened through "
                      "one (name the file itself)\n" % link, err)

    def test_zeroed_magic_refused_and_left_as_it_is(self):
        # a second file, of a worker that stopped; its header zeroed (a
        # damaged disk; with the checks above, no other user can)
        path = os.path.join(self.dir, "replay-b")
        token = make_jwt(self.secret)
        with Server(secret=self.secret, args=["--replay-file", path]) as b:
            self.assertEqual(present(b, token), 101)
        with open(path, "r+b") as f:
            f.write(b"\0" * 8)
        before = digest(path)
        err = self.refused(path)
        self.assertIn("cannot start: --replay-file: %s is not a replay file: its header is zero (damaged, or "
                      "never finished); it is left as it is -- delete it if forgetting the tokens in it is "
                      "meant\n" % path, err)
        self.assertEqual(digest(path), before)   # not re-created: the spent token's entry is still in it
        # the operator means the reset: deleted, a new one is made
        os.unlink(path)
        with Server(secret=self.secret, args=["--replay-file", path]) as b:
            self.assertEqual(present(b, token), 101)

    def test_a_new_file_appears_whole(self):
        d = state_dir(self, mode=0o700)
        w = DirWatch(d)
        self.addCleanup(w.close)
        with Server(secret=self.secret, args=["--replay-file", os.path.join(d, "replay")]):
            pass
        ev = w.poll()
        tmp = [n for m, n in ev if m == IN_CREATE and re.match(r"replay" + TMP_NAME, n)]
        self.assertEqual(len(tmp), 1, ev)
        # built under its temporary name, then linked to its own (never an
        # empty or half-made file at PATH), then the temporary name removed
        self.assertEqual([e for e in ev if e[1] in (tmp[0], "replay")],
                         [(IN_CREATE, tmp[0]), (IN_CREATE, "replay"), (IN_DELETE, tmp[0])])
        with open(os.path.join(d, "replay"), "rb") as f:
            magic, version = struct.unpack("<QI", f.read(12))
        self.assertEqual((magic, version), (MAGIC, 2))

    def test_a_lock_owner_left_in_a_file_no_one_maps_is_reset(self):
        # the operator's own file (no other user could write it), its lock
        # naming a thread that is gone: with no process mapping it, the next
        # start resets the lock -- no handshake waits or is refused
        path = os.path.join(self.dir, "replay-c")
        with Server(secret=self.secret, args=["--replay-file", path]):
            pass
        with open(path, "r+b") as f:
            f.seek(32)
            f.write(struct.pack("<i", 0x3ffffff0))
        with Server(secret=self.secret, args=["--replay-file", path]) as b:
            self.assertEqual([present(b, make_jwt(self.secret)) for _ in range(5)], [101] * 5)
            self.assertEqual(stats(b)["replay_store"]["errors"], 0)


# ---- finding 6: the block file ------------------------------------------------

@needs_root
class BlockFile(HandshakeCase):

    def test_planted_temporary_file_is_never_used(self):
        # a directory others may write, sticky (like /tmp): nobody plants the
        # old fixed temporary name, a link, and a few guesses
        d = state_dir(self, mode=0o1777)
        path = os.path.join(d, "blocks.json")
        rc, _, err = as_nobody(
            "import os,sys\n"
            "p = sys.argv[1]\n"
            "for n in (p + '.tmp', p + '.tmp-0000000000000000', p + '.tmp-%016x' % os.getpid()):\n"
            "    fd = os.open(n, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666); os.write(fd, b'planted'); os.close(fd)\n"
            "    os.chmod(n, 0o666)\n"
            "os.symlink('/etc/passwd', p + '.tmp-ffffffffffffffff')\n", path)
        self.assertEqual(rc, 0, err)
        planted = {n: digest(os.path.join(d, n)) for n in os.listdir(d) if not os.path.islink(os.path.join(d, n))}
        w = DirWatch(d)
        self.addCleanup(w.close)
        with Server(args=["--block-file", path]) as srv:
            call = self.start_honest(srv, seconds=4.0)
            pattern = r"^blocks\.json" + TMP_NAME
            for i in range(3):
                self.assertEqual(admin(srv, "block", {"cidr": "192.0.2.%d" % (i + 1), "reason": "r%d" % i})[0], 200)
                wait_for(lambda: len(w.created(pattern)) > i, what="save %d" % i)
                st = wait_for(lambda: os.path.exists(path) and os.lstat(path), what="blocks.json")
                self.assertEqual((st.st_uid, st.st_mode & 0o170000, st.st_mode & 0o7777), (0, 0o100000, 0o600))
            names = w.created(pattern)
            call.assert_clean(self)
        # three saves, three names nobody could have guessed (64 random bits
        # each), none of the planted ones
        self.assertEqual(len(names), 3)
        self.assertEqual(len(set(names)), 3)
        self.assertFalse(set(names) & set(planted))
        for n, h in planted.items():
            st = os.stat(os.path.join(d, n))
            self.assertEqual((st.st_uid, st.st_mode & 0o777, digest(os.path.join(d, n))), (NOBODY, 0o666, h))
        with open(path) as f:
            self.assertEqual(sorted(b["cidr"] for b in json.load(f)["blocks"]),
                             ["192.0.2.1/32", "192.0.2.2/32", "192.0.2.3/32"])

    def test_world_writable_block_file_with_everything_blocked(self):
        d = state_dir(self)
        path = os.path.join(d, "blocks.json")
        with Server(args=["--block-file", path]) as srv:   # saved once, as a deployment would have it
            self.assertEqual(admin(srv, "block", {"cidr": "192.0.2.1"})[0], 200)
            wait_for(lambda: os.path.exists(path), what="blocks.json")
        os.chmod(path, 0o666)
        rc, _, err = as_nobody("import sys; open(sys.argv[1], 'w').write("
                               "'{\"blocks\":[{\"cidr\":\"0.0.0.0/0\",\"expires\":0}]}')", path)
        self.assertEqual(rc, 0, err)
        # an honest call on another server meanwhile; the restart of this one
        # is watched: /healthz must never answer 403
        with Server() as other:
            call = self.start_honest(other, seconds=2.0)
            port = free_port()
            seen, stop = [], threading.Event()

            def poll():
                while not stop.is_set():
                    seen.append(curl(["http://127.0.0.1:%d/healthz" % port], timeout=2)[0])
                    time.sleep(0.02)
            t = threading.Thread(target=poll)
            t.start()
            try:
                rc, err = refused_start(self, ["--block-file", path], port=port)
            finally:
                time.sleep(0.2)
                stop.set()
                t.join()
            call.assert_clean(self)
        self.assertEqual(rc, 2, err)
        self.assertIn("cannot start: --block-file: %s is owned by uid 0 (root) with mode 0666; needed: owned by "
                      "root (this server's user), writable by neither group nor others\n" % path, err)
        self.assertNotIn(403, seen)
        self.assertEqual(set(seen), {0})   # never listening
        # the operator fixes it (here: removes what nobody wrote): served again
        os.unlink(path)
        with Server(args=["--block-file", path]) as srv:
            self.assertEqual(curl([srv.base + "/healthz"])[0], 200)

    def test_block_file_of_another_user_or_through_a_link_refused(self):
        d = state_dir(self, mode=0o1777)
        path = os.path.join(d, "blocks.json")
        rc, _, err = as_nobody("import os,sys; fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600); "
                               "os.write(fd, b'{\"blocks\":[{\"cidr\":\"0.0.0.0/0\",\"expires\":0}]}')", path)
        self.assertEqual(rc, 0, err)
        rc, err = refused_start(self, ["--block-file", path])
        self.assertEqual(rc, 2, err)
        self.assertIn("--block-file: %s is owned by uid 65534 (nobody) with mode 0600" % path, err)
        link = os.path.join(d, "link.json")
        os.symlink("/etc/passwd", link)
        rc, err = refused_start(self, ["--block-file", link])
        self.assertEqual(rc, 2, err)
        self.assertIn("--block-file: %s is a symbolic link" % link, err)


# ---- the shipped unit's layout ------------------------------------------------

@needs_root
class DynamicUserLayout(HandshakeCase):
    """DynamicUser=yes with StateDirectory=caller-echo: the state directory
    is /var/lib/private/caller-echo, owned by the transient user (mode
    0755), reached through /var/lib/caller-echo, a link systemd makes as
    root; inside the unit /var/lib/private is an empty root-owned 0755
    tmpfs with that one directory mounted in. Rebuilt under /tmp, served as
    nobody by two workers on one port, each with its own block file, both
    sharing the replay file as the template unit's instances do."""

    def test_two_workers_as_the_transient_user(self):
        base = state_dir(self)
        lib = os.path.join(base, "var", "lib")
        os.makedirs(os.path.join(lib, "private"), 0o755)
        for p in (os.path.join(base, "var"), lib, os.path.join(lib, "private")):
            os.chmod(p, 0o755)
        own = os.path.join(lib, "private", "caller-echo")
        os.mkdir(own, 0o755)
        os.chown(own, NOBODY, NOBODY)
        os.symlink("private/caller-echo", os.path.join(lib, "caller-echo"))
        state = os.path.join(lib, "caller-echo")
        secret = os.urandom(24).hex().encode()
        port, wports = free_port(), (free_port(), free_port())
        workers = [Server(secret=secret, secret_via="env", port=port, runner=AS_NOBODY,
                          args=["--reuse-port", "--worker-port", str(wp), "--worker-id", "w%d" % i,
                                "--replay-file", os.path.join(state, "replay"),
                                "--block-file", os.path.join(state, "blocks-%d.json" % i)])
                   for i, wp in enumerate(wports)]
        with workers[0], workers[1]:
            call = self.start_honest(workers[0], seconds=2.0)
            token = make_jwt(secret)
            self.assertEqual(present(workers[0], token, port=wports[0]), 101)
            self.assertEqual(present(workers[1], token, port=wports[1]), 401)   # one table
            st = os.stat(os.path.join(own, "replay"))
            self.assertEqual((st.st_uid, st.st_mode & 0o7777), (NOBODY, 0o600))
            c = http.client.HTTPConnection("127.0.0.1", wports[1], timeout=5)
            c.request("POST", "/admin/block", body=json.dumps({"cidr": "192.0.2.7"}),
                      headers={"Content-Type": "application/json"})
            self.assertEqual(c.getresponse().status, 200)
            blocks = os.path.join(own, "blocks-1.json")
            wait_for(lambda: os.path.exists(blocks), what="blocks-1.json")
            st = os.stat(blocks)
            self.assertEqual((st.st_uid, st.st_mode & 0o7777), (NOBODY, 0o600))
            call.assert_clean(self)


# ---- finding 4: the jti table sized from the configuration ------------------

class TableSizing(HandshakeCase):
    """--verify-webhooks, --max-calls 4500 (three-minute calls: 25 new a
    second), --jwt-max-age 85 + --jwt-leeway 5: 25 x 6 x 90 = 13,500 live
    tokens, 8 slots each. The old fixed table (16,384 slots) refused
    hundreds of them with 503; all 13,500 -- sockets and webhooks, each a
    real signed token, sent within their lifetime -- are accepted now, an
    honest call alongside."""

    ARGS = ["--verify-webhooks", "--max-calls", "4500", "--jwt-max-age", "85", "--jwt-leeway", "5"]
    DESIGN = 25 * 6 * 90
    SOCKETS = 300

    def test_design_load_without_a_refusal(self):
        with Server(args=self.ARGS, start_timeout=10) as srv:
            call = self.start_honest(srv, seconds=3.0)
            t0 = time.monotonic()
            statuses = {}
            # sockets: real upgrades from 30 addresses, each closed at once
            for i in range(self.SOCKETS):
                st = upgrade(srv, "127.0.0.%d" % (2 + i % 30))[0]
                statuses[st] = statuses.get(st, 0) + 1
            # the rest: answer and event webhooks over one keep-alive connection
            body = json.dumps({"status": "answered", "uuid": "u-1"}).encode()
            ph = hashlib.sha256(body).hexdigest()
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            for i in range(self.DESIGN - self.SOCKETS - 1):   # the honest call spent one
                if i % 2:
                    c.request("POST", "/webhooks/events", body=body, headers={
                        "Authorization": "Bearer " + make_jwt(srv.secret, claims={"payload_hash": ph}),
                        "Content-Type": "application/json"})
                else:
                    c.request("GET", "/webhooks/answer?uuid=u-%d&from=447700900001&to=447700900000" % i,
                              headers={"Authorization": "Bearer " + make_jwt(srv.secret)})
                r = c.getresponse()
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            took = time.monotonic() - t0
            c.close()
            call.assert_clean(self)
            d = stats(srv)
            print("\n  %d tokens in %.1f s: %r; jti table: %s live of %s slots" %
                  (self.DESIGN, took, statuses, d["replay_store"].get("live"), d["replay_store"].get("slots")))
            self.assertLess(took, 80, "too slow to hold the design load within a token's lifetime")
            want = self.DESIGN - self.SOCKETS - 1
            self.assertEqual(statuses, {101: self.SOCKETS, 200: (want + 1) // 2, 204: want // 2})
            self.assertEqual(d["rejected"]["replay_table_full"], 0)
            # sized as the configuration says, and said at start
            r = d["replay_store"]
            self.assertEqual((r["slots"], r["design_live"], r["memory_bytes"]), (108544, 13500, 16 + 108544 * 12))
            self.assertIn("jti table 108544 slots (1.2 MiB, resident as used) in this process, for 13500 live "
                          "tokens (25 calls/s x 6 x 90 s)", srv.stderr_text())
            self.assertEqual(d["replay_store"]["full"], 0)
            self.assertEqual(d["replay_store"]["checks"], self.DESIGN)
            self.assertEqual(d["replay_store"]["live"], self.DESIGN)   # every one still live: the design load
            self.assertNotIn("replay table full", srv.stderr_text())


# ---- finding 4, the block table: what a flood from many addresses costs --------

class BlockTableFull(HandshakeCase):
    """600 addresses (behind a trusted proxy) each earn an automatic block:
    the table holds 512, so 88 automatic blocks end early -- said in the log,
    /stats.json and /metrics -- and those 88 addresses are served again."""

    ARGS = ["--trusted-proxy", "127.0.0.1", "--block-after", "1", "--block-seconds", "600", "--log-format", "json"]

    def test_flood_from_more_addresses_than_the_table_holds(self):
        addrs = ["198.18.%d.%d" % (i // 200, i % 200 + 1) for i in range(600)]
        with Server(args=self.ARGS) as srv:
            call = self.start_honest(srv, seconds=3.0)
            got = [upgrade(srv, "127.0.0.1", token="bad", headers=[("X-Forwarded-For", a)])[0] for a in addrs]
            self.assertEqual(got, [401] * 600)
            d = stats(srv)["admin"]
            self.assertEqual((d["auto_blocks"], d["auto_blocks_evicted"], d["blocks_full"], len(d["blocks"])),
                             (600, 88, 0, 512))
            m = curl([srv.base + "/metrics"])[2].decode()
            self.assertIn("\ncaller_echo_auto_blocks_evicted_total 88\n", m)
            self.assertIn("\ncaller_echo_blocks_full_total 0\n", m)

            def said():
                lines = [json.loads(l) for l in srv.stderr_text().splitlines() if '"block_table_full"' in l]
                return lines and "88 and 0 since start" in lines[-1]["fields"]["msg"] and lines
            lines = wait_for(said, what="the block_table_full log line")
            self.assertEqual(sum(int(re.search(r"full \(512 entries\): (\d+) automatic", l["fields"]["msg"]).group(1))
                                 for l in lines), 88)
            # the 88 are served again (a good token: no new strike), the others not
            again = [upgrade(srv, "127.0.0.1", headers=[("X-Forwarded-For", a)])[0] for a in addrs]
            self.assertEqual((again.count(101), again.count(403)), (88, 512))
            call.assert_clean(self)


if __name__ == "__main__":
    unittest.main()
