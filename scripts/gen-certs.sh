#!/bin/sh
# gen-certs.sh -- make a self-signed certificate for local TLS testing.
# Writes certs/server.key (private, git-ignored) and certs/server.crt.
# Usage: scripts/gen-certs.sh [host-name]   (default: localhost)
# Existing files are kept; delete them to make new ones.
set -eu
cd "$(dirname "$0")/.."
name=${1:-localhost}
if [ -f certs/server.key ] && [ -f certs/server.crt ]; then
	echo "certs/server.crt and certs/server.key exist; delete them to regenerate" >&2
	exit 0
fi
mkdir -p certs
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
	-subj "/CN=$name" -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
	-keyout certs/server.key -out certs/server.crt 2>/dev/null
chmod 644 certs/server.crt
echo "wrote certs/server.crt and certs/server.key (CN=$name)."
echo "run: build/caller-echo --tls-cert certs/server.crt --tls-key certs/server.key"
