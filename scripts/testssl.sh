#!/bin/sh
# testssl.sh -- TLS audit of caller-echo with Debian's testssl.sh (`make testssl`).
#
# Starts build/caller-echo on a free loopback port with a freshly generated
# certificate, runs testssl against it, stops it, and checks the verdicts
# this project promises (docs/security-audit.md): no SSLv2/SSLv3/TLS 1.0/
# TLS 1.1, no NULL/anonymous/export/low/3DES/obsolete suites, and forward
# secrecy (ECDHE) on every suite offered. Done twice: with an ECDSA P-256
# certificate (what scripts/gen-certs.sh makes) and with an RSA 2048 one.
# Reports go to build/testssl/<kind>.{log,json}. Manual: it takes minutes
# and is not part of `make test`.
# Exit status: 0 when both runs meet every promise.
set -u
cd "$(dirname "$0")/.."
BIN=${CALLER_ECHO_BIN:-build/caller-echo}
OUT=build/testssl
TESTSSL=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$TESTSSL" ]; then
	echo "testssl: not installed (Debian package testssl.sh)" >&2
	exit 2
fi
mkdir -p "$OUT"
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

make_cert() {   # kind -> $tmp/<kind>.{crt,key}
	case "$1" in
	ecdsa) key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1" ;;
	rsa) key="-newkey rsa:2048" ;;
	esac
	# shellcheck disable=SC2086
	openssl req -x509 $key -nodes -days 365 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$tmp/$1.key" -out "$tmp/$1.crt" 2>/dev/null
}

# check the JSON findings against our promises; prints one line per problem
verdict() {
	/usr/bin/python3 - "$1" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))
if isinstance(items, dict):          # --jsonfile-pretty layout
    items = [f for r in items.get("scanResult", []) for k, v in r.items()
             if isinstance(v, list) for f in v]
by = {}
for f in items:
    by.setdefault(f.get("id"), []).append(f.get("finding", ""))
bad = []
def offered(i):
    return any(x.startswith("offered") for x in by.get(i, []))
for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
    if p not in by:
        bad.append("%s: not tested" % p)
    elif offered(p):
        bad.append("%s offered" % p)
for p in ("TLS1_2", "TLS1_3"):
    if not offered(p):
        bad.append("%s not offered" % p)
for c in ("cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW",
          "cipherlist_3DES_IDEA", "cipherlist_AVERAGE", "cipherlist_OBSOLETED"):
    for f in by.get(c, []):
        if not f.startswith("not offered"):
            bad.append("%s: %s" % (c, f))
# every cipher the server accepted (-E lists them per protocol)
suites = [(i, f) for i, fs in by.items() if i and i.startswith("cipher-") for f in fs]
if not suites:
    bad.append("no per-cipher results (cipher-*)")
for i, f in suites:
    # "TLS 1.2 xc02b ECDHE-ECDSA-AES128-GCM-SHA256 ECDH 253 AESGCM 128 ...": the
    # key exchange follows the OpenSSL name; TLS 1.3 suites are all (EC)DHE
    t = f.split()
    kx = t[4] if len(t) > 4 else ""
    if not (kx.startswith("ECDH") or kx.startswith("DH") or (t[:2] == ["TLS", "1.3"])):
        bad.append("no forward secrecy: %s %s" % (i, " ".join(t)))
fs = by.get("FS", []) + by.get("PFS", [])
if not any(x.startswith("offered") for x in fs):
    bad.append("forward secrecy not reported offered: %r" % fs)
# findings about the certificate itself (self-signed, no OCSP/CRL, no CAA
# record) concern the throw-away test certificate, not the server's TLS set-up
cert = []
for f in items:
    if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL"):
        i = f.get("id", "")
        line = "%s %s: %s" % (f["severity"], i, f.get("finding"))
        (cert if i.startswith("cert") or i.startswith("DNS_CAA") else bad).append(line)
print("\n".join(bad))
for c in cert:
    print("  (test certificate, not counted) " + c, file=sys.stderr)
print("suites offered: %d" % len(suites), file=sys.stderr)
for i, f in sorted(suites):
    print("  " + " ".join(f.split()), file=sys.stderr)
PY
}

rc=0
for kind in ecdsa rsa; do
	make_cert "$kind"
	head -c 48 /dev/urandom | base64 | tr -d '\n' >"$tmp/secret"
	chmod 600 "$tmp/secret"
	port=$(free_port)
	"$BIN" --listen 127.0.0.1 --port "$port" --secret-file "$tmp/secret" \
		--tls-cert "$tmp/$kind.crt" --tls-key "$tmp/$kind.key" 2>"$OUT/$kind.server.log" &
	pid=$!
	i=0
	until curl -sk --noproxy '*' -o /dev/null "https://127.0.0.1:$port/healthz"; do
		i=$((i + 1))
		if [ "$i" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
			echo "testssl: server did not start; see $OUT/$kind.server.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "testssl ($kind certificate) against 127.0.0.1:$port ..."
	rm -f "$OUT/$kind.json" "$OUT/$kind.log"
	# -p protocols, -s cipher categories, -f forward secrecy, -E every cipher
	# per protocol, -S server defaults, -U vulnerabilities, -P preference
	nice "$TESTSSL" --quiet --color 0 --warnings off --sneaky --ip one \
		-p -s -f -E -S -U -P \
		--jsonfile "$OUT/$kind.json" --logfile "$OUT/$kind.log" \
		"127.0.0.1:$port" >/dev/null 2>&1
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
	if [ ! -s "$OUT/$kind.json" ]; then
		echo "testssl ($kind): no results (see $OUT/$kind.log)" >&2
		rc=1
		continue
	fi
	problems=$(verdict "$OUT/$kind.json" 2>"$OUT/$kind.suites")
	cat "$OUT/$kind.suites"
	if [ -n "$problems" ]; then
		echo "testssl ($kind): FAILED:"
		echo "$problems" | sed 's/^/  /'
		rc=1
	else
		echo "testssl ($kind): OK -- TLS 1.2/1.3 only, no weak or anonymous suites, forward secrecy on every suite"
	fi
done
ver=$("$TESTSSL" --version 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -o 'testssl *[0-9][0-9.]*' | head -n1)
echo "$ver ($TESTSSL), $(openssl version); reports in $OUT/"
exit $rc
