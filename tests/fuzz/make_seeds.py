#!/usr/bin/python3
"""make_seeds.py -- write the seed corpus of each harness into tests/fuzz/corpus/.

Seeds are small, readable, valid-ish inputs that get each harness past its
front door (a correctly signed token, a real Vonage answer query, a connected
event, a realistic fragment sequence); libFuzzer mutates from there. The
constants (secret, NOW, application id) match tests/fuzz/fuzz_auth_jwt.cpp.
Re-run after changing an input format: /usr/bin/python3 tests/fuzz/make_seeds.py
"""
import base64
import hashlib
import hmac
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"fuzz-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
NOW = 1700000000
APP = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def token(hdr, payload, key=SECRET, alg=hashlib.sha256):
    si = b64(hdr) + b"." + b64(payload)
    return si + b"." + b64(hmac.new(key, si, alg).digest())


def js(o):
    return json.dumps(o, separators=(",", ":")).encode()


def write(name, files):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for fn, data in files.items():
        with open(os.path.join(d, fn), "wb") as f:
            f.write(data)


HS = js({"alg": "HS256", "typ": "JWT"})
GOOD = {"iat": NOW - 5, "jti": "0b3a6a0e-5d0c-4c5e-9a51-6d3f1f6c7e11", "iss": "Vonage",
        "application_id": APP}


def auth_seeds():
    s = {}
    # mode 0: the raw header value
    s["raw_ok"] = b"\x00Bearer " + token(HS, js(GOOD))
    s["raw_expired"] = b"\x00Bearer " + token(HS, js(dict(GOOD, exp=NOW - 100)))
    s["raw_alg_none"] = b"\x00Bearer " + b64(js({"alg": "none"})) + b"." + b64(js(GOOD)) + b"."
    s["raw_hs512"] = b"\x00Bearer " + token(js({"alg": "HS512"}), js(GOOD), alg=hashlib.sha512)
    s["raw_wrong_key"] = b"\x00bearer  " + token(HS, js(GOOD), key=b"other") + b" \t"
    s["raw_basic"] = b"\x00Basic dXNlcjpwYXNz"
    # mode 1: claims, correctly signed
    s["claims_ok"] = b"\x01" + js(GOOD)
    s["claims_exp_nbf"] = b"\x01" + js(dict(GOOD, exp=NOW + 60, nbf=NOW - 60))
    s["claims_iat_string"] = b"\x01" + js(dict(GOOD, iat=str(NOW)))
    s["claims_iat_old"] = b"\x01" + js(dict(GOOD, iat=NOW - 301))
    s["claims_iat_float"] = b"\x01" + b'{"iat":1699999999.5,"application_id":"' + APP.encode() + b'"}'
    s["claims_dup_iat"] = b"\x01" + b'{"iat":1699999990,"iat":1,"application_id":"' + APP.encode() + b'"}'
    s["claims_wrong_app"] = b"\x01" + js(dict(GOOD, application_id="x"))
    s["claims_payload_hash"] = b"\x01" + js(dict(GOOD, payload_hash="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    s["claims_jti_number"] = b"\x01" + js(dict(GOOD, jti=12))
    s["claims_no_jti"] = b"\x01" + js({k: v for k, v in GOOD.items() if k != "jti"})
    # mode 2: JOSE header, correctly signed with good claims
    s["hdr_ok"] = b"\x02" + HS
    s["hdr_lower_alg"] = b"\x02" + js({"alg": "hs256", "typ": "JWT"})
    s["hdr_crit"] = b"\x02" + js({"alg": "HS256", "crit": ["exp"]})
    s["hdr_typ_kid"] = b"\x02" + js({"typ": "jwt", "kid": "k1", "alg": "HS256"})
    write("auth_jwt", s)


def answer_seeds():
    F = b"\xff"
    s = {}
    q = b"uuid=63f61863-4a51-4f6b-86e1-46edebcf9356&conversation_uuid=CON-f972836a&from=447700900001&to=447700900000"
    s["get_query"] = q + F + F + b"echo.example.com" + F + F + b"\x04"
    s["get_query_escapes"] = (b"uuid=%22%3C%3E%00x&from=+44+7700&to=%ZZ&to=second" + F + F +
                              b"127.0.0.1:8080" + F + F + b"\x02")
    s["get_ipv6_host"] = b"uuid=u" + F + F + b"[::1]:8443" + F + F + b"\x00"
    s["get_bad_host"] = b"uuid=u" + F + F + b"evil.com/x?y" + F + F + b"\x04"
    s["get_public_url"] = (q + F + F + b"ignored" + F + b"https://echo.example.com:8443/echo/" + F +
                           b"\x04")
    body = js({"uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356", "conversation_uuid": "CON-f972836a",
               "from": "447700900001", "to": "447700900000", "region_url": "https://api-eu-1.vonage.com"})
    s["post_body"] = F + body + F + b"echo.example.com" + F + F + b"\x05"
    s["post_body_unicode"] = (F + b'{"uuid":"\\u0022\\u00e9\\ud83d\\ude00","from":"<b>","to":12}' + F +
                              b"a-b.example" + F + b"wss://x.example" + F + b"\x03")
    s["post_bad_json"] = F + b'{"uuid":"x"} trailing' + F + b"h" + F + F + b"\x05"
    write("answer", s)


def vonage_msg_seeds():
    s = {}
    s["ws_connected"] = js({"event": "websocket:connected", "content-type": "audio/l16;rate=16000",
                            "uuid": "63f61863-4a51-4f6b-86e1-46edebcf9356", "from": "447700900001"})
    s["ws_dtmf"] = js({"event": "websocket:dtmf", "digit": "5", "duration": 260})
    s["ws_dtmf_bad"] = js({"event": "websocket:dtmf", "digit": "55"})
    s["ws_cleared"] = js({"event": "websocket:cleared"})
    s["ws_notify"] = b' {"event":"websocket:notify","payload":{"a":[1,2.5e3,true,null]}}\r\n'
    s["ws_unknown"] = b'{"event":"\\u003cscript\\u003e"}'
    s["hook_answered"] = js({"status": "answered", "uuid": "u-1", "conversation_uuid": "CON-1",
                             "direction": "inbound", "timestamp": "2026-11-27T00:00:00.000Z"})
    s["hook_call_uuid"] = js({"status": "completed", "call_uuid": "c-1"})
    s["not_object"] = b'["event","websocket:connected"]'
    s["trailing"] = b'{"event":"websocket:dtmf","digit":"1"} {}'
    write("vonage_msg", s)


def op(kind, fin, data):
    n = len(data)
    assert n < 8192
    return bytes([kind | (4 if fin else 0) | ((n >> 8) << 3), n & 0xff]) + data


def audio_seeds():
    def head(slots, slot_bytes):
        v = slot_bytes - 1
        return bytes([slots - 1, v & 0xff, v >> 8])
    frame = bytes(range(256)) * 3 + bytes(192)          # 960 bytes
    ev = js({"event": "websocket:connected", "content-type": "audio/l16;rate=24000"})
    s = {}
    s["paced_echo"] = head(8, 960) + (op(0, 1, frame[:640]) + op(2, 0, b"")) * 3
    s["fragmented_frame"] = head(8, 960) + op(0, 0, frame[:100]) + op(0, 0, b"") + op(0, 1, frame[100:960])
    s["text_then_audio"] = head(8, 960) + op(1, 1, ev) + op(0, 1, frame) + op(3, 0, b"")
    s["text_fragmented"] = head(8, 960) + op(1, 0, ev[:10]) + op(1, 0, ev[10:30]) + op(1, 1, ev[30:])
    s["flood_drop"] = head(4, 320) + op(0, 1, frame[:320]) * 7 + op(2, 0, b"") + op(0, 1, b"")
    s["over_slot"] = head(2, 100) + op(0, 1, frame[:100]) + op(0, 0, frame[:60]) + op(0, 1, frame[:41])
    s["text_over_4096"] = head(1, 1) + op(1, 0, b"x" * 4000) + op(1, 1, b"y" * 97)
    write("audio_msg", s)


def addr_seeds():
    F = b"\xff"
    s = {}
    s["xff_v4"] = b"203.0.113.7" + F + b"10.0.0.0/8" + F + b"10.1.2.3"
    s["xff_chain"] = b"198.51.100.9, 10.0.0.1,\t 192.0.2.44 " + F + b"192.0.2.0/24" + F + b"192.0.3.1"
    s["xff_v6"] = b"2001:db8::1" + F + b"2001:db8::/32" + F + b"2001:db8:ffff::1"
    s["xff_mapped"] = b"::ffff:127.0.0.1" + F + b"::ffff:10.0.0.0/104" + F + b"10.9.9.9"
    s["loopback_v6"] = b"::1" + F + b"::1" + F + b"::1"
    s["cidr_bad"] = b"unknown, 1.2.3.4.5" + F + b"1.2.3.4/33" + F + b"1.2.3.4"
    write("addr", s)


def admin_seeds():
    # first byte: 0 hangup, 1 block, 2 unblock (enum admin_op); the rest is the body.
    # The named ones are the edges issue 19 found: what cJSON alone lets through.
    s = {}
    s["block_ok"] = b"\x01" + js({"cidr": "203.0.113.0/24", "seconds": 86400, "reason": "scanner", "hangup": True})
    s["block_nul_escape"] = b'\x01{"cidr":"192.0.2.12\\u0000junk"}'
    s["block_nul_byte"] = b'\x01{"cidr":"192.0.2.12\x00junk"}'
    s["block_minus_zero"] = b'\x01{"cidr":"192.0.2.12","seconds":-0}'
    s["block_exponent"] = b'\x01{"cidr":"192.0.2.12","seconds":1e3}'
    s["block_fraction"] = b'\x01{"cidr":"192.0.2.12","seconds":3600.0000000000001}'
    s["block_twice"] = b'\x01{"cidr":"192.0.2.12","cidr":"0.0.0.0/0"}'
    s["hangup_uuid_nul"] = b'\x00{"uuid":"abc\\u0000def","code":4000}'
    s["hangup_code_leading_zero"] = b'\x00{"call":1,"code":01000}'
    s["hangup_call_huge"] = b'\x00{"call":9007199254740993}'
    s["unblock_escaped_backslash"] = b'\x02{"cidr":"10.0.0.0/8","x":"\\\\u0000"}'
    write("admin", s)


def admission_seeds():
    # two flag bytes (fuzz_admission.cpp), then path, Host, Origin, Authorization,
    # Content-Length, Content-Type, the upgrade's protocol, a GET's query JSON, split at 0xff.
    # byte 0: bit 0 http (else the upgrade), bits 1-2 method (0 GET, 1 POST, 2 other),
    # 3 local, 4 proxied, 5 draining, 6 shutting down (with byte 1 bit 6), 7 at capacity;
    # byte 1: bit 0 --verify-webhooks, 1 a stats token, 2 an admin token, 3 send a good
    # token, 4 a body, 5 Transfer-Encoding.
    F = b"\xff"

    def req(a, b, path=b"", host=b"", origin=b"", authz=b"", cl=b"", ct=b"", proto=b"", query=b""):
        return bytes([a, b]) + F.join([path, host, origin, authz, cl, ct, proto, query])
    s = {}
    s["upgrade_good"] = req(0x00, 0x08, b"/socket")
    s["upgrade_bad_path"] = req(0x00, 0x08, b"/sockets")
    s["upgrade_origin"] = req(0x00, 0x08, b"/socket", origin=b"https://evil.example")
    s["upgrade_origin_ok"] = req(0x00, 0x08, b"/socket", origin=b"https://ops.example.com")
    s["upgrade_subprotocol"] = req(0x00, 0x08, b"/socket", proto=b"http")
    s["upgrade_capacity"] = req(0x80, 0x08, b"/socket")
    s["upgrade_draining"] = req(0x20, 0x08, b"/socket")
    s["upgrade_te"] = req(0x00, 0x28, b"/socket")
    s["upgrade_bad_token"] = req(0x00, 0x00, b"/socket", authz=b"Bearer " + token(HS, js(GOOD), key=b"x" * 40))
    s["http_healthz"] = req(0x09, 0x00, b"/healthz", host=b"127.0.0.1:8080")
    s["http_stats_operator"] = req(0x09, 0x00, b"/stats.json", host=b"localhost:8080")
    s["http_stats_rebinding"] = req(0x09, 0x00, b"/stats.json", host=b"evil.example")
    s["http_stats_proxied"] = req(0x19, 0x00, b"/metrics", host=b"localhost")
    s["http_stats_token"] = req(0x01, 0x02, b"/stats", authz=b"Bearer stats-tok-123456")
    s["http_admin_operator"] = req(0x0b, 0x10, b"/admin/block", host=b"[::1]:8080", cl=b"20",
                                   ct=b"application/json")
    s["http_admin_origin"] = req(0x0b, 0x10, b"/admin/block", host=b"127.0.0.1", origin=b"http://127.0.0.1",
                                 cl=b"20", ct=b"application/json")
    s["http_admin_token"] = req(0x03, 0x14, b"/admin/unblock", authz=b"Bearer admin-tok-123456", cl=b"30",
                                ct=b"application/json")
    s["http_admin_form"] = req(0x0b, 0x10, b"/admin/block", host=b"localhost", cl=b"20",
                               ct=b"application/x-www-form-urlencoded")
    s["http_webhook_signed_get"] = req(0x01, 0x09, b"/webhooks/answer", query=b'{"uuid":"u1"}')
    s["http_webhook_unsigned"] = req(0x01, 0x01, b"/webhooks/events")
    s["http_webhook_post"] = req(0x03, 0x19, b"/webhooks/events", cl=b"17")
    s["http_post_no_length"] = req(0x03, 0x10, b"/webhooks/events")
    s["http_post_too_long"] = req(0x03, 0x10, b"/webhooks/events", cl=b"99999999999999999999")
    s["http_method"] = req(0x05, 0x10, b"/healthz")
    s["http_te"] = req(0x03, 0x30, b"/webhooks/events", cl=b"3")
    s["http_answer_draining"] = req(0x21, 0x00, b"/webhooks/answer")
    write("admission", s)


if __name__ == "__main__":
    auth_seeds()
    answer_seeds()
    vonage_msg_seeds()
    audio_seeds()
    addr_seeds()
    admin_seeds()
    admission_seeds()
