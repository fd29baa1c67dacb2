#!/bin/sh
# caller-echo-swap -- replace a running caller-echo with a new binary or a
# new configuration, with no call cut and no call refused (README "Restarts
# and upgrades"). Installed by `make install` as caller-echo-swap.
#
#   caller-echo-swap            swap between caller-echo@a and caller-echo@b
#   caller-echo-swap OLD NEW    swap between caller-echo@OLD and caller-echo@NEW
#
# Both instances share the port (REUSE_PORT=1, set by the template unit) and
# each has its own WORKER_PORT in /etc/caller-echo/worker-INSTANCE.env. The
# script starts the instance that is not running (it runs whatever binary
# and configuration are installed now), waits until its own /healthz on its
# worker port answers 200, then stops the running one: systemd sends it
# SIGTERM, it leaves the shared port -- the kernel now gives every new
# connection, and with net.ipv4.tcp_migrate_req the ones already queued, to
# the new instance -- and it drains: its calls go on until they end or
# DRAIN_TIMEOUT passes (TimeoutStopSec in the unit is longer). The stop is
# queued without waiting (--no-block); follow it with
#   journalctl -fu caller-echo@OLD     or   curl http://127.0.0.1:OLDPORT/stats.json
#
# Environment: SYSCONFDIR (default /etc), SYSTEMCTL (default systemctl),
# HEALTH_TIMEOUT seconds (default 30). Exit status: 0 swapped; 1 the new
# instance did not become healthy (it is stopped again, the old one keeps
# serving); 2 bad usage or setup.
set -eu

SYSCONFDIR=${SYSCONFDIR:-/etc}
SYSTEMCTL=${SYSTEMCTL:-systemctl}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-30}

case $# in
0) a=a; b=b ;;
2) a=$1; b=$2 ;;
*) echo "usage: caller-echo-swap [OLD NEW]" >&2; exit 2 ;;
esac

if $SYSTEMCTL is-active --quiet "caller-echo@$a"; then
	old=$a new=$b
elif $SYSTEMCTL is-active --quiet "caller-echo@$b"; then
	old=$b new=$a
else
	echo "caller-echo-swap: neither caller-echo@$a nor caller-echo@$b is running; start one first" >&2
	exit 2
fi

# the new instance's own port, from its environment file
port=$(sed -n 's/^WORKER_PORT=\([0-9][0-9]*\)[[:space:]]*$/\1/p' "$SYSCONFDIR/caller-echo/worker-$new.env" 2>/dev/null |
	tail -n 1)
if [ -z "$port" ]; then
	echo "caller-echo-swap: no WORKER_PORT=N in $SYSCONFDIR/caller-echo/worker-$new.env" >&2
	exit 2
fi

echo "caller-echo-swap: starting caller-echo@$new (own port $port) next to caller-echo@$old"
$SYSTEMCTL start "caller-echo@$new"

# /healthz over bash-less /dev/tcp is not portable sh: curl, else wget
healthy() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz"
	else
		wget -q -O /dev/null -T 2 "http://127.0.0.1:$port/healthz"
	fi
}
waited=0
until healthy 2>/dev/null; do
	if [ "$waited" -ge "$HEALTH_TIMEOUT" ] || ! $SYSTEMCTL is-active --quiet "caller-echo@$new"; then
		echo "caller-echo-swap: caller-echo@$new is not healthy after ${waited} s; stopping it," \
		     "caller-echo@$old keeps serving (journalctl -u caller-echo@$new)" >&2
		$SYSTEMCTL stop "caller-echo@$new" || true
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done

echo "caller-echo-swap: caller-echo@$new is healthy; draining caller-echo@$old (its calls go on until they end)"
$SYSTEMCTL stop --no-block "caller-echo@$old"
echo "caller-echo-swap: done: new calls go to caller-echo@$new; follow the drain with journalctl -fu caller-echo@$old"
