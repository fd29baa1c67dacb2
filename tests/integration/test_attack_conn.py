"""
test_attack_conn.py -- attacks from inside an accepted WebSocket, each
against the per-connection control that must stop it (SECURITY.md):

  frame-rate flood                 --max-msg-rate      close 1008  rejected.msg_rate
  silent socket holding a slot     --idle-timeout      close 1001  rejected.idle
  dead peer / NAT keep-alive       --ping-interval     pings answered = call stays
  invalid UTF-8 in a text frame    lws VALIDATE_UTF8   close 1007
  truncated frames, stalled frames idle timeout        closed, counted, nothing echoed
  protocol violations, oversize    lws parser, slots   close 1002/1009 or dropped

Each runs next to an honest call (honest.py) that must lose no frame.
Attackers connect from 127.0.0.2 and up with hand-made frames (attack.py).
"""
import socket
import struct
import threading
import time
import unittest

from attack import (OP_BIN, OP_CLOSE, OP_CONT, OP_PING, OP_TEXT, audio_frame, delta, encode_frame,
                    healthy, rejected, stream_raw, upgrade)
from harness import Server, skip_under, stats
from honest import HonestCall
from test_attack_handshake import HandshakeCase, wait_open

CONNECTED = b'{"event":"websocket:connected","content-type":"audio/l16;rate=24000"}'


class MessageRate(HandshakeCase):

    def test_flood_closed_1008_and_paced_traffic_is_not(self):
        """Default cap (250 messages/s): 600 messages at once are closed with
        1008 after at most 251 echoes; 150 messages/s for 2 s (3x Vonage's
        50) pass untouched."""
        with Server() as srv:
            call = self.start_honest(srv, seconds=3.0)
            before = rejected(srv)
            # under the cap, in a thread while the flood runs
            status, _, paced = upgrade(srv, "127.0.0.3")
            self.assertEqual(status, 101)
            res = {}
            t = threading.Thread(target=lambda: res.update(stream_raw(paced, 2.0, seed=5,
                                                                      pace=1 / 150, size=160)))
            t.start()
            status, _, ws = upgrade(srv, "127.0.0.2")
            self.assertEqual(status, 101)
            ws.send_raw(b"".join(encode_frame(OP_BIN, b"%06d" % i) for i in range(600)))
            echoes, code = 0, None
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    fin, op, p = ws.recv_frame(timeout=deadline - time.monotonic())
                except (EOFError, OSError):
                    break
                if op == OP_BIN:
                    echoes += 1
                elif op == OP_CLOSE:
                    code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005
                    break
            ws.s.close()
            t.join(10)
            self.assertEqual(code, 1008, "close code of the flooding socket")
            self.assertLessEqual(echoes, 251, "echoes before the 1008")
            self.assertEqual(delta(before, rejected(srv)), {"msg_rate": 1})
            self.assertEqual((res["sent"], res["echoed"], res["mismatched"], res["close"], res["eof"]),
                             (300, 300, 0, None, False), "paced 150/s socket")
            paced.close()
            call.assert_clean(self)

    def test_stall_catch_up_burst_passes(self):
        """Regression: 240 full 960-byte frames in one write (what arrives
        after a ~4.8 s network stall) are under the 250/s cap. Frames that
        straddle lws's reads come in two pieces; they used to count twice and
        the call was closed 1008 after ~130 frames."""
        with Server() as srv:
            before = rejected(srv)
            status, _, ws = upgrade(srv, "127.0.0.2")
            self.assertEqual(status, 101)
            frames = [bytes([i % 251]) * 960 for i in range(240)]
            got, close = [], []

            def reader():
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    try:
                        fin, op, p = ws.recv_frame(timeout=0.5)
                    except socket.timeout:
                        if len(got) + srv_dropped() >= len(frames):
                            return
                        continue
                    except (EOFError, OSError):
                        return
                    if op == OP_BIN:
                        got.append(p)
                    elif op == OP_CLOSE:
                        close.append(struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005)
                        return

            def srv_dropped():
                return stats(srv)["totals"]["frames_dropped"]

            t = threading.Thread(target=reader)
            t.start()
            ws.send_raw(b"".join(encode_frame(OP_BIN, f) for f in frames))
            t.join(15)
            ws.s.close()
            d = stats(srv)
            self.assertEqual(close, [], "the catch-up burst was closed")
            self.assertEqual(d["totals"]["packets_received"], len(frames))
            self.assertEqual(delta(before, rejected(srv)), {})
            # what came back is in order and bit-exact (a slow reader may see
            # drop-oldest, which is counted)
            self.assertEqual(len(got) + d["totals"]["frames_dropped"], len(frames))
            idx = [frames.index(p) for p in got]
            self.assertEqual(idx, sorted(idx))

    def test_configured_cap(self):
        with Server(args=["--max-msg-rate", "60"]) as srv:
            call = self.start_honest(srv, seconds=2.0)     # 50/s: under 60
            before = rejected(srv)
            status, _, ws = upgrade(srv, "127.0.0.2")
            for i in range(100):
                ws.send(OP_BIN, b"x")
            self.assertEqual(ws.wait_close(5), 1008)
            ws.s.close()
            self.assertEqual(delta(before, rejected(srv)), {"msg_rate": 1})
            call.assert_clean(self)


class IdleAndKeepAlive(HandshakeCase):

    def test_idle_closed_1001(self):
        with Server(args=["--idle-timeout", "2"]) as srv:
            call = self.start_honest(srv, seconds=4.0)
            before = rejected(srv)
            status, _, ws = upgrade(srv, "127.0.0.2")
            self.assertEqual(status, 101)
            ws.send(OP_TEXT, CONNECTED)
            t0 = time.monotonic()
            code = ws.wait_close(8)      # pings answered: a pong is not audio
            waited = time.monotonic() - t0
            ws.s.close()
            self.assertEqual(code, 1001)
            self.assertGreaterEqual(waited, 1.5, "closed before the idle timeout")
            self.assertEqual(delta(before, rejected(srv)), {"idle": 1})
            call.assert_clean(self)     # streams 4 s: never idle

    def test_idle_timeout_off(self):
        with Server(args=["--idle-timeout", "0"]) as srv:
            status, _, ws = upgrade(srv, "127.0.0.2")
            self.assertEqual(status, 101)
            time.sleep(2.5)       # over the 2 s used elsewhere; nothing closes it
            ws.send(OP_BIN, b"still here")
            fin, op, p = ws.recv_frame(3)
            self.assertEqual((op, p), (OP_BIN, b"still here"))
            ws.close()

    @skip_under("asan", reason="time-bound: waits out two ping intervals; lws's ping path is "
                "not our code")
    def test_pings_answered_keep_the_call(self):
        """--ping-interval 5: lws pings a streaming call about every 5 s; a
        client that answers stays, and the second ping proves the pong was
        taken (without it lws would wait for the hang-up instead)."""
        with Server(args=["--ping-interval", "5"]) as srv:
            status, _, ws = upgrade(srv, "127.0.0.2")
            self.assertEqual(status, 101)
            r = stream_raw(ws, 10.8, seed=9)
            ws.close()
            self.assertEqual((r["sent"], r["echoed"], r["mismatched"], r["close"], r["eof"]),
                             (540, 540, 0, None, False))
            self.assertEqual(len(r["pings"]), 2, "pings at %r" % r["pings"])
            self.assertTrue(4.0 <= r["pings"][0] <= 6.5, "first ping at %.2f s" % r["pings"][0])
            self.assertTrue(healthy(srv))


class BadFrames(HandshakeCase):

    def test_invalid_utf8_text_1007(self):
        with Server() as srv:
            call = self.start_honest(srv, seconds=2.0)
            for name, frames in (
                    ("invalid bytes", [(OP_TEXT, b'{"event":"\xff\xfe"}', True)]),
                    ("overlong", [(OP_TEXT, b'{"event":"\xc0\xaf"}', True)]),
                    ("surrogate", [(OP_TEXT, b'{"event":"\xed\xa0\x80"}', True)]),
                    ("cut at the end", [(OP_TEXT, b'{"event":"\xe2\x82', True)]),
                    ("bad in a fragment", [(OP_TEXT, b'{"event":', False), (OP_CONT, b'"\xf8\x88"}', True)])):
                with self.subTest(name):
                    status, _, ws = upgrade(srv, "127.0.0.2")
                    self.assertEqual(status, 101)
                    for op, p, fin in frames:
                        ws.send(op, p, fin=fin)
                    self.assertEqual(ws.wait_close(5), 1007)
                    ws.s.close()
            # a character split over two fragments is valid: the call goes on
            status, _, ws = upgrade(srv, "127.0.0.2")
            ws.send(OP_TEXT, b'{"event":"\xe2\x82', fin=False)
            ws.send(OP_CONT, b'\xac"}')
            ws.send(OP_BIN, b"after")
            fin, op, p = ws.recv_frame(3)
            self.assertEqual((op, p), (OP_BIN, b"after"))
            ws.close()
            call.assert_clean(self)

    def test_truncated_frames(self):
        """Half a header, a header with part of its payload, then the peer
        hangs up or stalls: nothing is echoed, the stalled socket is closed
        by the idle timeout, every socket is counted and gone afterwards."""
        with Server(args=["--idle-timeout", "2"]) as srv:
            call = self.start_honest(srv, seconds=4.0)
            full = encode_frame(OP_BIN, audio_frame(0))
            cuts = {"1 byte of header": full[:1], "header without mask key": full[:4],
                    "header and mask key": full[:8], "half the payload": full[:500],
                    "all but one byte": full[:-1]}
            stalled = []
            for i, (name, part) in enumerate(cuts.items()):
                for hang_up in (True, False):
                    status, _, ws = upgrade(srv, "127.0.0.%d" % (2 + i))
                    self.assertEqual(status, 101)
                    ws.send_raw(part)
                    if hang_up:
                        ws.s.close()
                    else:
                        stalled.append((name, ws))
            for name, ws in stalled:
                with self.subTest(stalled=name):
                    # closed by the idle timeout; no echo of the partial frame on the way
                    try:
                        fin, op, p = ws.recv_frame(6)
                    except EOFError:
                        op = None
                    self.assertIn(op, (OP_CLOSE, None), "got a frame other than close")
                    ws.s.close()
            self.assertEqual(wait_open(srv, 1, timeout=5), 1, "truncated sockets still open")
            call.assert_clean(self)
            # counted once the honest call is over: mid-call, a frame read in
            # the loop pass that serves /stats.json is echoed at its end
            self.assertEqual(wait_open(srv, 0, timeout=5), 0)
            d = stats(srv)
            self.assertEqual(d["totals"]["connections_total"], 1 + 2 * len(cuts))
            self.assertEqual(d["totals"]["packets_sent"], d["totals"]["packets_received"])

    def test_protocol_violations_and_oversize(self):
        """Frames RFC 6455 forbids or the server cannot hold: closed (1002,
        1009, 1007) or dropped, never echoed, never a crash."""
        big = 1 << 62
        cases = {
            "reserved bits": (encode_frame(OP_BIN, b"x" * 10, rsv=4), (1002,)),
            "unknown data opcode": (encode_frame(3, b"x"), (1002,)),
            "unknown control opcode": (encode_frame(0xB, b"x"), (1002,)),
            "continuation first": (encode_frame(OP_CONT, b"x"), (1002,)),
            "fragmented ping": (encode_frame(OP_PING, b"x", fin=False), (1002,)),
            "ping over 125 bytes": (encode_frame(OP_PING, b"x" * 126), (1002, None)),
            "new message inside a fragmented one":
                (encode_frame(OP_TEXT, b"{", fin=False) + encode_frame(OP_BIN, b"x"), (1002,)),
            "close code 999": (encode_frame(OP_CLOSE, struct.pack("!H", 999)), (1002,)),
            "length 2^63+5": (encode_frame(OP_BIN, b"abcd", length=(1 << 63) + 5), (1002, None)),
            "length 2^62, slot exceeded": (encode_frame(OP_BIN, b"a" * 2000, length=big), (1009,)),
            "binary over a slot": (encode_frame(OP_BIN, b"b" * 961), (1009,)),
            "200 five-byte fragments over a slot": (encode_frame(OP_BIN, b"y" * 5, fin=False) +
                                                    b"".join(encode_frame(OP_CONT, b"y" * 5, fin=False)
                                                             for _ in range(199)), (1009,)),
            # every fragment counts against --max-msg-rate; the server closes
            # with unread input queued, so its close frame may be lost to the RST
            "2000 one-byte fragments": (encode_frame(OP_BIN, b"y", fin=False) +
                                        b"".join(encode_frame(OP_CONT, b"y", fin=False)
                                                 for _ in range(1999)), (1008, None)),
            "text over 4 KiB in fragments": (encode_frame(OP_TEXT, b"[" * 3000, fin=False) +
                                             encode_frame(OP_CONT, b"[" * 3000), (1009,)),
        }
        with Server() as srv:
            call = self.start_honest(srv, seconds=3.0)
            for name, (data, codes) in cases.items():
                with self.subTest(name):
                    status, _, ws = upgrade(srv, "127.0.0.2")
                    self.assertEqual(status, 101)
                    try:
                        ws.send_raw(data)
                    except OSError:
                        pass
                    got = "open"
                    try:
                        fin, op, p = ws.recv_frame(5)
                        got = (struct.unpack("!H", p[:2])[0] if len(p) >= 2 else 1005) \
                            if op == OP_CLOSE else "frame opcode %d" % op
                    except EOFError:
                        got = None
                    except OSError:
                        got = None
                    ws.s.close()
                    self.assertIn(got, codes)
            self.assertTrue(healthy(srv))
            self.assertEqual(wait_open(srv, 1), 1)
            call.assert_clean(self)


if __name__ == "__main__":
    unittest.main()
