#!/bin/sh
# build.sh -- build uws-echo (the uWebSockets side of docs/benchmarks.md's
# side-by-side table) from uWebSockets and uSockets trees kept OUTSIDE this
# repository; their code is never committed here.
#
#   bench/uws/build.sh UWS_TREE USOCKETS_TREE OUT_DIR
#
# The trees: a checkout or `git archive` of github.com/uNetworking/uWebSockets
# and of the uSockets commit it pins as its submodule. Writes OUT_DIR/uws-echo
# and OUT_DIR/COMMITS.txt (when the trees are git checkouts). Then:
#   UWS_ECHO=OUT_DIR/uws-echo SERVERS=caller-echo,uws,caller-echo-tls,uws-tls make bench
# uSockets: its epoll backend (no libuv), OpenSSL; -O2 like caller-echo's
# build, no LTO (upstream's own build uses -O3 -march=native -flto:
# CFLAGS_OPT="-O3 -flto" tries that).
set -eu
[ $# -eq 3 ] || { echo "usage: $0 UWS_TREE USOCKETS_TREE OUT_DIR" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
UWS=$(cd "$1" && pwd)
US=$(cd "$2" && pwd)
mkdir -p "$3"
OUT=$(cd "$3" && pwd)
CC=${CC:-gcc}
CXX=${CXX:-g++}
OPT=${CFLAGS_OPT:--O2}

for t in "$UWS" "$US"; do
	if git -C "$t" rev-parse HEAD >/dev/null 2>&1; then
		echo "$(basename "$t") $(git -C "$t" rev-parse HEAD)"
	fi
done > "$OUT/COMMITS.txt"

rm -rf "$OUT/us" && mkdir -p "$OUT/us"
for f in "$US"/src/*.c "$US"/src/eventing/*.c "$US"/src/crypto/*.c "$US"/src/io_uring/*.c; do
	[ -e "$f" ] || continue
	o="$OUT/us/$(echo "${f#$US/src/}" | tr / _ | sed 's/\.c$/.o/')"
	$CC $OPT -std=c11 -DLIBUS_USE_OPENSSL -I"$US/src" -c "$f" -o "$o"
done
for f in "$US"/src/crypto/*.cpp; do
	[ -e "$f" ] || continue
	o="$OUT/us/$(echo "${f#$US/src/}" | tr / _ | sed 's/\.cpp$/.o/')"
	$CXX $OPT -std=c++17 -DLIBUS_USE_OPENSSL -I"$US/src" -c "$f" -o "$o"
done
rm -f "$OUT/uSockets.a"
ar rcs "$OUT/uSockets.a" "$OUT"/us/*.o
$CXX $OPT -std=c++20 -DUWS_NO_ZLIB -DLIBUS_USE_OPENSSL -I"$UWS/src" -I"$US/src" \
	"$HERE/uws-echo.cpp" -o "$OUT/uws-echo" "$OUT/uSockets.a" -ljwt -lssl -lcrypto
echo "built $OUT/uws-echo"
