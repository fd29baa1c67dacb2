#!/bin/sh
# options-doc.sh BINARY FILE -- put BINARY --help-markdown (the option table,
# made from src/config.cpp's one list) between the options:begin/end markers
# of FILE. `make docs` runs it for docs/options.md; tests/integration/test_docs.py
# fails when the committed table and the binary's differ.
set -eu
bin=$1 file=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
table=$("$bin" --help-markdown)
awk -v table="$table" '
	/<!-- options:begin -->/ { print; print table; skip = 1; next }
	/<!-- options:end -->/   { skip = 0 }
	!skip { print }
' "$file" >"$tmp"
grep -q "<!-- options:end -->" "$tmp" || { echo "options-doc: no markers in $file" >&2; exit 1; }
cat "$tmp" >"$file"
