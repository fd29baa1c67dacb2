#!/bin/sh
# gen-jwt.sh -- print a Vonage-shaped HS256 JWT signed with the development
# secret (or VONAGE_SIGNATURE_SECRET), for trying the WebSocket by hand:
#   websocat -H "Authorization: Bearer $(scripts/gen-jwt.sh)" ws://127.0.0.1:8080/socket
# Uses only the openssl CLI.
set -eu
cd "$(dirname "$0")/.."
if [ -n "${VONAGE_SIGNATURE_SECRET:-}" ]; then
	secret=$VONAGE_SIGNATURE_SECRET
else
	secret=$(cat "${VONAGE_SIGNATURE_SECRET_FILE:-.dev-secret}")
fi
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
jti=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"iat":%s,"jti":"%s","iss":"Vonage","application_id":"dev"}' "$now" "$jti" | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)
printf '%s.%s.%s\n' "$header" "$payload" "$sig"
