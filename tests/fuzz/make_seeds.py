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


if __name__ == "__main__":
    auth_seeds()
    answer_seeds()
    vonage_msg_seeds()
    audio_seeds()
    addr_seeds()
    admin_seeds()
