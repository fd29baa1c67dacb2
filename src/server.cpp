/*
 * server.cpp -- build the lws context, run the service loop, shut down.
 *
 * One context, one vhost, one listening port for HTTP and WebSocket, one
 * thread. server_create() goes in named steps: the shared tables (seeded),
 * the protocols table, the creation info, the context (with the event
 * library if its plugin is there), the --reuse-port listener, the
 * protocols' init. Then a 100 ms timer (tick) drives everything periodic:
 * the once-a-second sweep of calls and blocks and a look at the open-file
 * limit, the stats history, a requested TLS reload, the answers to other
 * signals (main.cpp: SIGUSR1's status line), the drain and shutdown. A tick
 * seconds late means the loop did not run (SIGTSTP, a starved machine):
 * the calls' idle clocks restart rather than blame the callers. The first SIGTERM starts a
 * drain: the listener is closed (or, with --reuse-port, the shared port
 * left to the other processes), open calls go on, and when the last one
 * ends -- or --drain-timeout passes -- shutdown follows. Shutdown (SIGINT,
 * a second SIGTERM, or the drain's end) asks every audio socket to close
 * with 1001 and leaves the loop when they are gone or after a grace period.
 * Everything below this file (the protocols, peer, tls_server, listener)
 * gets the state from struct server and never calls back in here.
 */
#include "server.h"

#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "apps.h"
#include "http.h"
#include "listener.h"
#include "peer.h"
#include "redis_client.h"
#include "tls_server.h"
#include "ws_audio.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define SHUTDOWN_GRACE_US (1500 * LWS_US_PER_MS)
#define STALL_S 2                       /* a tick this late means the loop did not run */

/* the signal flags: the only process-wide state (set from handlers);
 * stop levels: 1 = drain (SIGTERM), 2 = stop now (SIGINT, SIGTERM again) */
static volatile const sig_atomic_t *stop_flag;
static volatile sig_atomic_t evlib_stop;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t signal_seen[65];   /* by number (Linux: 1..64); see server_note_signal */
/* for lws's log callback, which gets no context: a failed accept must be
 * answered before lws's loop turns again (listener.h) */
static struct server *emit_srv;

/* Make "audio" the vhost default: upgrades without a subprotocol bind to it. */
static const struct lws_protocol_vhost_options pvo_default = { NULL, NULL, "default", "1" };
static const struct lws_protocol_vhost_options pvo_audio = { NULL, &pvo_default, "audio", "" };

static const char *loop_name(enum event_loop l)
{
	return l == LOOP_LIBEV ? "libev" : l == LOOP_LIBUV ? "libuv" : "poll";
}

/* lws's own log lines, folded into ours (log.cpp caps their rate). */
static void lws_emit(int level, const char *line)
{
	/* lws 4.1.6's listener on a failed accept (ops-listen.c), the only sign
	 * we get: out of descriptors, the connection stays queued and the loop
	 * spins on it unless we take it off the queue now */
	const char *acc = level & LLL_ERR ? strstr(line, "accept: errno ") : NULL;
	if (acc)
		listener_lws_accept_failed(emit_srv, atoi(acc + 14));
	log_lws_line(level & LLL_ERR ? LOG_ERROR : level & LLL_WARN ? LOG_WARN
		     : level & (LLL_NOTICE | LLL_USER) ? LOG_INFO : LOG_DEBUG, line);
}

void server_request_reload(void)
{
	reload_requested = 1;
}

void server_note_signal(int sig)
{
	if (sig > 0 && sig < (int)(sizeof signal_seen / sizeof signal_seen[0]))
		signal_seen[sig] = 1;
}

/* As kill -l names them: SIGUSR1, SIGIO, SIGRTMIN+3, SIGRTMAX. */
static void signal_name(int sig, char *out, size_t cap)
{
	const char *abbrev = sig == SIGIO ? "IO" : sigabbrev_np(sig);   /* glibc says POLL */

	if (abbrev)
		snprintf(out, cap, "SIG%s", abbrev);
	else if (sig == SIGRTMIN || sig == SIGRTMAX)
		snprintf(out, cap, "%s", sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMAX");
	else if (sig > SIGRTMIN && sig < SIGRTMAX)
		snprintf(out, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(out, cap, "signal %d", sig);
}

void server_log_status(struct server *srv, const char *why)
{
	const struct stats *st = &srv->stats;
	char apps[160] = "", state[128];
	size_t n = 0;

	for (int i = 0; i < st->n_app_names && n < sizeof apps; i++) {
		int w = snprintf(apps + n, sizeof apps - n, "%s%s %u", i ? ", " : "", st->app_names[i],
				 calls_in_app(&srv->calls, st->app_names[i]));
		n += w > 0 ? (size_t)w : 0;
	}
	if (srv->shutting_down)
		snprintf(state, sizeof state, "shutting down");
	else if (srv->draining)
		snprintf(state, sizeof state, "draining for %ld s, %ld s to the deadline",
			 (long)(clock_wall_s() - st->drain_started), (long)(st->drain_deadline - clock_wall_s()));
	else
		snprintf(state, sizeof state, "serving");
	const struct log_field lf[] = { LOG_NUM("calls_open", srv->calls.open),
					LOG_NUM("draining", srv->draining), LOG_NUM("shutting_down", srv->shutting_down),
					LOG_NUM("connections", srv->conns.open), LOG_NUM("connections_max", srv->conns.max),
					LOG_NUM("fd_limit", srv->conns.limit),
					LOG_NUM("uptime_s", clock_wall_s() - st->started), LOG_STR("signal", why) };
	/* asked for: written whatever --log-level says, not rate-limited (the tick coalesces) */
	log_write_fields(LOG_INFO, "status", lf, sizeof lf / sizeof lf[0],
			 "status (%s): %u call(s) open (%s), %s; %u connection(s) of %u allowed (open-file limit %u); "
			 "app memory %llu of %llu KiB; %llu log line(s) about calls not written; up %ld s",
			 why, srv->calls.open, apps, state, srv->conns.open, srv->conns.max, srv->conns.limit,
			 (unsigned long long)(st->app_heap_bytes / 1024), (unsigned long long)(st->app_heap_max / 1024),
			 (unsigned long long)st->call_log_suppressed, (long)(clock_wall_s() - st->started));
}

/* Once a tick: answer the signals that came since the last one. */
static void signals_tick(struct server *srv)
{
	char name[32];

	for (int sig = 1; sig < (int)(sizeof signal_seen / sizeof signal_seen[0]); sig++) {
		if (!signal_seen[sig])
			continue;
		signal_seen[sig] = 0;
		signal_name(sig, name, sizeof name);
		if (sig == SIGUSR1 || sig == SIGUSR2)
			server_log_status(srv, name);
		else
			log_warn_ev("signal", "%s received: ignored (caller-echo gives it no meaning; README \"Signals\")",
				    name);
	}
}

/*
 * libuv and libev install their own signal watchers (libuv's stops the loop
 * on SIGTERM without our 1001 closes); with signal_cb set they report here
 * instead, and the tick starts the same graceful shutdown.
 */
static void evlib_signal(void *handle, int signum)
{
	(void)handle;
	if (signum == SIGINT || (signum == SIGTERM && (evlib_stop || (stop_flag && *stop_flag))))
		evlib_stop = 2;
	else if (signum == SIGTERM)
		evlib_stop = 1;
	else if (signum == SIGHUP)
		reload_requested = 1;
}

static int stop_level(void)
{
	int a = stop_flag ? *stop_flag : 0;
	return a > evlib_stop ? a : evlib_stop;
}

/* ---- the periodic work ---------------------------------------------------- */

/* Once a second: forget expired blocks, and save the table if it changed
 * (a flood of automatic blocks costs one write a second, not one each). */
static void blocks_tick(struct server *srv)
{
	struct block_table *b = &srv->blocks;
	char err[640];

	/* a full table is a flood from BLOCK_MAX addresses at once: say what
	 * it cost, once a second at most */
	if (b->evicted != srv->blocks_said.evicted || b->full != srv->blocks_said.full) {
		log_warn_ev("block_table_full", "block table full (%d entries): %llu automatic block(s) ended early to "
			    "make room, %llu block(s) not made (the operator's fill it); %llu and %llu since start",
			    BLOCK_MAX, (unsigned long long)(b->evicted - srv->blocks_said.evicted),
			    (unsigned long long)(b->full - srv->blocks_said.full), (unsigned long long)b->evicted,
			    (unsigned long long)b->full);
		srv->blocks_said.evicted = b->evicted;
		srv->blocks_said.full = b->full;
	}
	/* the replay file was checked at open; a chmod since would let another
	 * user fill it or plant a lock owner: say so while it lasts */
	char why[400];
	if (replay_store_recheck(&srv->replay, why, sizeof why) && srv->replay.st.unsafe % 60 == 1)
		log_err_ev("replay_file_unsafe", "%s: another user can write it now (fill it, plant a lock owner, "
			   "zero its header); chmod it back (0600)", why);   /* then once a minute while it lasts */
	block_expire(b, clock_wall_s());
	if (!b->dirty || !srv->cfg->block_file[0])
		return;
	int rc = block_save(b, srv->cfg->block_file, clock_wall_s(), err, sizeof err);
	if (rc) {
		b->dirty = 0;   /* tried; the next change tries again */
		log_limited(&srv->bad_input_log, clock_wall_s(), "blocks not saved%s: %s",
			    rc == BLOCK_FILE_REFUSED ? " (refused)" : "", err);
	}
}

static void begin_shutdown(struct server *srv);

/*
 * SIGTERM: take no new calls, let the open ones finish. With our own
 * SO_REUSEPORT listener we leave the shared port (the kernel hands new
 * connections, and with net.ipv4.tcp_migrate_req those already queued on
 * ours, to the other processes on it) and keep --worker-port for health
 * checks and /stats. Without --reuse-port there is no one to hand calls
 * to, and lws 4.1.6 cannot close its own listener while serving
 * (lws_context_deprecate() uses the listener's wsi after freeing it), so
 * the port stays open for /healthz and /stats while upgrades and the
 * answer webhook get 503 (ws_audio.cpp, http.cpp). Every HTTP answer
 * meanwhile says Connection: close.
 */
static void begin_drain(struct server *srv)
{
	const struct config *cfg = srv->cfg;

	srv->draining = 1;
	srv->drain_deadline = clock_mono_us() + (lws_usec_t)cfg->drain_timeout_s * LWS_US_PER_SEC;
	srv->stats.drain_started = clock_wall_s();
	srv->stats.drain_deadline = srv->stats.drain_started + cfg->drain_timeout_s;
	srv->drain_next_log = srv->stats.drain_started + 60;
	log_info_ev("drain", "drain: taking no new calls; %u call(s) open may go on for up to %d s "
		    "(a second SIGTERM, or SIGINT, ends them now)", srv->calls.open, cfg->drain_timeout_s);
	if (srv->listen.wsi)
		listener_leave(srv);
}

/* Once a tick while draining: done, out of time, or a progress line a minute. */
static void drain_tick(struct server *srv)
{
	uint32_t left = srv->calls.open;
	long took = (long)(clock_wall_s() - srv->stats.drain_started);

	if (!left) {
		log_info_ev("drain", "drain: every call has ended, %ld s after the drain began", took);
		begin_shutdown(srv);
	} else if (clock_mono_us() > srv->drain_deadline) {
		log_warn_ev("drain", "drain: --drain-timeout (%d s) reached with %u call(s) still open: closing them "
			    "with 1001", srv->cfg->drain_timeout_s, left);
		begin_shutdown(srv);
	} else if (clock_wall_s() >= srv->drain_next_log) {
		srv->drain_next_log += 60;
		log_info_ev("drain", "drain: %u call(s) left, %ld s to the deadline", left,
			    (long)(srv->stats.drain_deadline - clock_wall_s()));
	}
}

/* What the signals ask for, now: nothing, a drain, or a stop. */
static void check_stop(struct server *srv)
{
	int lvl = stop_level();

	if (srv->shutting_down || !lvl)
		return;
	if (lvl >= 2 || !srv->cfg->drain_timeout_s) {
		if (srv->draining)
			log_info_ev("drain", "drain: stop requested again: closing the %u call(s) left now",
				    srv->calls.open);
		begin_shutdown(srv);
	} else if (!srv->draining) {
		begin_drain(srv);
	}
}

static void begin_shutdown(struct server *srv)
{
	srv->shutting_down = 1;
	srv->shutdown_deadline = clock_mono_us() + SHUTDOWN_GRACE_US;
	log_info_ev("shutdown", "shutting down: closing %u audio connection(s) with 1001", srv->calls.open);
	lws_callback_on_writable_all_protocol(srv->ctx, &srv->protocols[SERVER_PROTO_AUDIO]);
	listener_leave(srv);
}

/*
 * Once a second, every call: a new message-rate window, and a call silent
 * for more than --idle-timeout is closed (1001) through its transport.
 */
static void sweep_calls(struct server *srv)
{
	const struct config *cfg = srv->cfg;
	time_t now = clock_wall_s();

	for (struct call *c = srv->calls.head; c; c = c->next) {
		if (!call_rules_sweep(&c->rules, now, cfg->idle_timeout_s))
			continue;
		peer_refused(srv, &c->client, REJECT_IDLE);
		const struct log_field lf[] = { LOG_STR("remote", c->remote), LOG_STR("reason", "idle"),
						LOG_NUM("call", c->id) };
		peer_log(srv, &srv->limit_log, &c->client, lf, sizeof lf / sizeof lf[0],
			 "call %llu from %s: no message for %d s, closing 1001", (unsigned long long)c->id, c->remote,
			 cfg->idle_timeout_s);
		c->tx->send_close(c);   /* call_rules_sweep asked for the close */
	}
}

static void tick(lws_sorted_usec_list_t *sul)
{
	struct server *srv = lws_container_of(sul, struct server, tick);

	time_t was = srv->last_tick_s;
	srv->last_tick_s = clock_wall_s();
	/* a tick seconds late: the process was stopped (SIGTSTP, a debugger) or
	 * starved; the callers were not silent, we were not listening */
	int stalled = srv->last_tick_s - was >= STALL_S;
	if (stalled && !srv->shutting_down) {
		log_warn("the event loop did not run for %ld s (stopped, or starved of CPU): the calls' idle clocks "
			 "restart now", (long)(srv->last_tick_s - was));
		for (struct call *c = srv->calls.head; c; c = c->next)
			call_rules_resume(&c->rules, srv->last_tick_s);
	}
	signals_tick(srv);
	/* after a stall the rate windows keep spanning it: what the peers sent
	 * meanwhile is arriving now (call_rules_rx) */
	if (++srv->ticks % 10 == 0 && !srv->shutting_down && !stalled) {
		sweep_calls(srv);   /* once a second: idle calls, message-rate windows */
		blocks_tick(srv);
		peer_conns_follow_limit(srv);   /* prlimit(1) may have moved it */
	}
	check_stop(srv);
	if (srv->draining && !srv->shutting_down)
		drain_tick(srv);
	stats_sample(&srv->stats, &srv->calls, clock_wall_s());   /* per-second history for /stats */
	if (reload_requested) {
		reload_requested = 0;
		if (srv->tls)
			tls_server_reload(srv);
		else
			log_info("reload: no TLS configured, nothing to reload");
	}
	if (srv->shutting_down) {
		if (!srv->calls.open || clock_mono_us() > srv->shutdown_deadline) {
			srv->done = 1;
			if (srv->loop == LOOP_POLL) {
				lws_cancel_service(srv->ctx);
			} else {
				/*
				 * An event library's run loop does not return to
				 * lws_service() by itself; the first stage of a context
				 * destroy stops it (as lws's eventlib example does from
				 * its signal callback). server_destroy() finishes it.
				 */
				lws_context_destroy(srv->ctx);
			}
			return;
		}
		/* sockets that were mid-write when we asked get asked again */
		lws_callback_on_writable_all_protocol(srv->ctx, &srv->protocols[SERVER_PROTO_AUDIO]);
	}
	lws_sul_schedule(srv->ctx, 0, &srv->tick, tick, TICK_US);
}

/* ---- server_create, step by step -------------------------------------------- */

/* The state the protocols share: JWT rules, stats, the keyed tables, blocks. */
static int init_tables(struct server *srv)
{
	const struct config *cfg = srv->cfg;

	srv->auth.secret = cfg->secret;
	srv->auth.secret_len = cfg->secret_len;
	srv->auth.max_age_s = cfg->jwt_max_age_s;
	srv->auth.leeway_s = cfg->jwt_leeway_s;
	srv->auth.application_id = cfg->application_id;
	srv->auth.issuer = "Vonage";
	srv->voice.dtmf_switch = cfg->dtmf_switch;
	srv->voice.default_rate = cfg->rate;
	srv->voice.slot_bytes = cfg->slot_bytes;
	srv->voice.heap_max = (uint64_t)cfg->app_memory_max_mb << 20;
	srv->voice.heap_in_use = &srv->stats.app_heap_bytes;
	srv->voice.log_suppressed = &srv->stats.call_log_suppressed;
	srv->start_app = apps_find(cfg->app);
	if (!srv->start_app)
		return -1;   /* config checked the name */
	stats_init(&srv->stats, clock_wall_s());
	calls_init(&srv->calls);
	srv->admission.cfg = cfg;
	srv->admission.auth = &srv->auth;
	srv->admission.guard = &srv->guard;
	srv->admission.replay = &srv->replay;
	srv->admission.blocks = &srv->blocks;
	srv->stats.app_names = apps_name_array();
	srv->stats.n_app_names = apps_switchable_n;
	srv->stats.app_heap_max = srv->voice.heap_max;
	snprintf(srv->stats.worker, sizeof srv->stats.worker, "%s", cfg->worker_id);
	srv->stats.pid = (long)getpid();
	srv->reject_log.event = "handshake_refused";
	/* each client has its own small share first (peer_log): this cap only
	 * bounds the whole log when very many clients are refused at once */
	srv->reject_log.burst = 100;
	srv->limit_log.burst = 100;
	srv->bad_input_log.event = "bad_input";
	srv->limit_log.event = "call_limit";
	srv->block_log.event = "auto_block";
	srv->evict_log.event = "connection_evicted";
	srv->last_tick_s = clock_wall_s();

	/* keyed hashes: clients cannot pick addresses or jtis that collide;
	 * getrandom, not RAND_bytes: starting OpenSSL's DRBG pulls ~1 MiB of
	 * libcrypto into RSS for 16 bytes (plain http never needs it) */
	uint64_t seeds[2];
	if (getrandom(seeds, sizeof seeds, 0) != (ssize_t)sizeof seeds) {
		log_err("cannot start: no randomness for the hash seeds");
		return -1;
	}
	struct guard_cfg gc = { (uint32_t)cfg->max_calls_per_addr, (uint32_t)cfg->handshake_rate,
				(uint32_t)cfg->handshake_burst, (uint32_t)cfg->max_pending_per_addr,
				cfg->limit_exempt, cfg->n_limit_exempt, (uint8_t)cfg->ipv6_prefix };
	guard_init(&srv->guard, &gc, seeds[0], (uint64_t)(clock_mono_us() / 1000));
	char rerr[640];
	if (config_replay_sizing(cfg, &srv->replay_size)) {
		log_err("cannot start: the jti table is too big");   /* config_load refused it already */
		return -1;
	}
	uint32_t slots = (uint32_t)srv->replay_size.slots;
	if (cfg->replay_file[0]) {
		int rc = replay_store_file(&srv->replay, cfg->replay_file, slots, rerr, sizeof rerr);
		if (rc) {
			log_err("cannot start: --replay-file: %s", rerr);
			return rc == REPLAY_STORE_BAD_CONFIG ? SERVER_BAD_CONFIG : -1;
		}
	} else {
		/* this process's table: the memory store, or Redis's fallback */
		srv->replay_local = replay_create(slots);
		if (!srv->replay_local) {
			log_err("cannot start: no memory for a jti table of %u slots (%.1f MiB): %s", slots,
				(double)srv->replay_size.bytes / (1 << 20), strerror(errno));
			return -1;
		}
		if (!cfg->replay_redis[0]) {
			replay_store_memory(&srv->replay, srv->replay_local, seeds[1]);
		} else {
			struct redis_client_opts ro = { cfg->replay_redis_tls, cfg->replay_redis_ca, cfg->replay_redis_user,
							cfg->replay_redis_password_len ? cfg->replay_redis_password : NULL,
							cfg->replay_redis_password_len };
			int r = replay_store_redis(&srv->replay, cfg->replay_redis, cfg->replay_redis_timeout_ms,
						   !strcmp(cfg->replay_redis_down, "local"), &ro, srv->replay_local,
						   seeds[1], rerr, sizeof rerr);
			if (r) {
				log_err("cannot start: --replay-redis: %s", rerr);
				return r == REPLAY_STORE_BAD_CONFIG ? SERVER_BAD_CONFIG : -1;
			}
		}
	}
	srv->stats.replay = &srv->replay.st;
	srv->stats.replay_table = replay_store_table(&srv->replay);
	srv->stats.replay_design_live = srv->replay_size.live;
	srv->stats.frame_pool = &srv->pool;
	srv->stats.replay_kind = srv->replay.kind == REPLAY_REDIS ? "redis" : srv->replay.kind == REPLAY_FILE ? "file"
											       : "memory";
	peer_conns_init(srv);

	/* a full ring for every call, reserved; calls take slots only while
	 * frames are in them (slot_pool.h). max_calls * (ring_slots + 1) is at
	 * most 100000 * 4097, within 32 bits (config's bounds) */
	char perr[256];
	if (slot_pool_map(&srv->pool, (uint32_t)cfg->max_calls * ((uint32_t)cfg->ring_slots + 1),
			  ring_slot_stride((uint32_t)cfg->slot_bytes), perr, sizeof perr)) {
		log_err("cannot start: frame memory for --max-calls %d x (--ring-slots %d + 1): %s", cfg->max_calls,
			cfg->ring_slots, perr);
		return -1;
	}

	srv->block_policy.after = (uint32_t)cfg->block_after;
	srv->block_policy.window_s = (uint32_t)cfg->block_window_s;
	srv->block_policy.seconds = (uint32_t)cfg->block_seconds;
	if (cfg->block_file[0]) {
		char err[640];
		if (block_load(&srv->blocks, cfg->block_file, clock_wall_s(), err, sizeof err)) {
			log_err("cannot start: %s", err);
			return SERVER_BAD_CONFIG;   /* the operator must look at it: a restart would not help */
		}
		if (srv->blocks.n)
			log_info_ev("blocks_loaded", "%u block(s) loaded from %s", srv->blocks.n, cfg->block_file);
		if (srv->blocks.full)
			log_warn_ev("block_table_full", "%s holds more blocks than the table's %d: %llu not loaded",
				    cfg->block_file, BLOCK_MAX, (unsigned long long)srv->blocks.full);
	}
	return 0;
}

/*
 * Three protocols on the one vhost: "http" first (lws binds plain requests
 * to protocols[0]), "audio" (the vhost default, so an upgrade without
 * Sec-WebSocket-Protocol lands on it; ws_audio refuses every upgrade that
 * would land elsewhere), "listener" (--reuse-port's raw sockets).
 */
static void fill_protocols(struct server *srv)
{
	struct lws_protocols *p = srv->protocols;

	memset(srv->protocols, 0, sizeof srv->protocols);
	p[SERVER_PROTO_HTTP].name = "http";
	p[SERVER_PROTO_HTTP].callback = http_callback;
	p[SERVER_PROTO_HTTP].per_session_data_size = sizeof(struct http_pss);
	p[SERVER_PROTO_AUDIO].name = "audio";
	p[SERVER_PROTO_AUDIO].callback = ws_audio_callback;
	p[SERVER_PROTO_AUDIO].per_session_data_size = ws_audio_pss_size(srv->cfg);
	p[SERVER_PROTO_AUDIO].rx_buffer_size = ws_audio_rx_buffer_size(srv->cfg);
	p[SERVER_PROTO_LISTENER].name = "listener";
	p[SERVER_PROTO_LISTENER].callback = listener_callback;
}

static void fill_info(struct server *srv, struct lws_context_creation_info *info)
{
	const struct config *cfg = srv->cfg;

	/* ping to keep NATs open and find dead peers; hang up if no pong */
	srv->retry.secs_since_valid_ping = (uint16_t)cfg->ping_s;
	srv->retry.secs_since_valid_hangup = (uint16_t)(cfg->ping_s * 2 + 10);

	memset(info, 0, sizeof *info);
	info->port = cfg->port;
	info->iface = cfg->listen[0] ? cfg->listen : NULL;
	info->protocols = srv->protocols;
	info->pvo = &pvo_audio;
	info->user = srv;
	info->gid = (gid_t)-1;
	info->uid = (uid_t)-1;
	info->timeout_secs = (unsigned)cfg->handshake_timeout_s; /* headers / handshake deadline */
	/* one buffer per connection in the handshake: a bigger header block is
	 * refused instead of growing it (slow or oversized requests) */
	info->max_http_header_data = (unsigned short)cfg->max_header_bytes;
	info->timeout_secs_ah_idle = (unsigned)cfg->handshake_timeout_s; /* connected, sending nothing */
	info->keepalive_timeout = 5;
	info->retry_and_idle_policy = &srv->retry;
	info->options = LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
			LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cfg->listen[0] && strchr(cfg->listen, ':'))
		info->options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	tls_server_info(cfg, info);
	/*
	 * No fd_limit_per_thread: setting it makes lws 4.1 look sockets up by a
	 * linear scan of every slot on each event (wsi_from_fd, 7% of the CPU
	 * at 1,000 calls). lws sizes its table from RLIMIT_NOFILE instead, which
	 * main() sets to max_calls + 256.
	 */
	if (srv->listen.fd >= 0) {
		/* --reuse-port: a TLS-capable vhost without a listener of its own */
		info->port = CONTEXT_PORT_NO_LISTEN_SERVER;
		info->iface = NULL;
	}
}

/*
 * lws loads an event library as a plugin (a separate Debian package) from
 * its install directory, and its context creation fails the same way
 * whether the plugin is missing or the port is taken. Look for the plugin
 * first, so that each is reported as what it is.
 */
static int evlib_present(enum event_loop l)
{
	/* lws looks in its own install directory: the one its library was
	 * loaded from (LWS_INSTALL_LIBDIR in the header can name another
	 * architecture's, e.g. in a cross build) */
	char path[512], dir[400] = LWS_INSTALL_LIBDIR;
	Dl_info info;
	if (dladdr((void *)lws_create_context, &info) && info.dli_fname && strrchr(info.dli_fname, '/')) {
		size_t n = (size_t)(strrchr(info.dli_fname, '/') - info.dli_fname);
		if (n < sizeof dir) {
			memcpy(dir, info.dli_fname, n);
			dir[n] = '\0';
		}
	}
	snprintf(path, sizeof path, "%s/libwebsockets-%s.so", dir, l == LOOP_LIBEV ? "evlib_ev" : "evlib_uv");
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (!h)
		return 0;
	dlclose(h);
	return 1;
}

/* Why lws could not listen: bind the same address ourselves and say. 1 if explained. */
static int explain_listen_failure(const struct config *cfg)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	int v6 = cfg->listen[0] && strchr(cfg->listen, ':'), one = 1, err = 0;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a4, 0, sizeof a4);
	memset(&a6, 0, sizeof a6);
	a4.sin_family = AF_INET;
	a4.sin_port = htons((uint16_t)cfg->port);
	a6.sin6_family = AF_INET6;
	a6.sin6_port = htons((uint16_t)cfg->port);
	if (cfg->listen[0] && (v6 ? inet_pton(AF_INET6, cfg->listen, &a6.sin6_addr)
				  : inet_pton(AF_INET, cfg->listen, &a4.sin_addr)) != 1)
		fd = fd >= 0 ? (close(fd), -1) : -1;   /* an interface name: nothing to try here */
	if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
			(v6 ? bind(fd, (struct sockaddr *)&a6, sizeof a6) : bind(fd, (struct sockaddr *)&a4, sizeof a4))))
		err = errno;
	if (fd >= 0)
		close(fd);
	if (err)
		log_err("cannot listen on %s:%d: %s", cfg->listen[0] ? cfg->listen : "*", cfg->port, strerror(err));
	return err != 0;
}

/*
 * A context whose loop never ran: lws 4.1.6 frees an internal libuv loop in
 * three calls (close handles, stop the loop, free), poll and libev in one;
 * calling again after the one that frees would touch freed memory.
 */
static void destroy_unstarted(struct server *srv)
{
	int calls = srv->loop == LOOP_LIBUV ? 3 : 1;

	while (calls--)
		lws_context_destroy(srv->ctx);
	srv->ctx = NULL;
}

static int create_context(struct server *srv, struct lws_context_creation_info *info)
{
	const struct config *cfg = srv->cfg;

	srv->loop = cfg->loop;
	if (srv->loop != LOOP_POLL && !evlib_present(srv->loop)) {
		/* keep serving: poll does the same job, at more CPU per call */
		log_warn("the %s event loop plugin is not installed (Debian package libwebsockets-evlib-%s); using poll",
			 loop_name(srv->loop), srv->loop == LOOP_LIBEV ? "ev" : "uv");
		srv->loop = LOOP_POLL;
	}
	if (srv->loop == LOOP_LIBEV)
		info->options |= LWS_SERVER_OPTION_LIBEV;
	else if (srv->loop == LOOP_LIBUV)
		info->options |= LWS_SERVER_OPTION_LIBUV;
	if (srv->loop != LOOP_POLL)
		info->signal_cb = evlib_signal;

	/*
	 * The context and its one vhost are made in two steps: when lws 4.1.6
	 * fails inside lws_create_context (a port in use, bad TLS files) it
	 * bails without freeing its plugin list and system-message peers, but
	 * lws_context_destroy() after a failed lws_create_vhost() frees all.
	 */
	info->options |= LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/*
	 * lws's libuv loop also watches SIGSEGV and SIGFPE and hands them to
	 * signal_cb like the others: a real fault then returned into the
	 * faulting instruction again and again (a crash became a busy hang, and
	 * ASan's report never came). The faults get back what they had.
	 */
	static const int faults[] = { SIGSEGV, SIGFPE };
	struct sigaction fault_sa[2];
	for (int i = 0; i < 2; i++)
		sigaction(faults[i], NULL, &fault_sa[i]);
	log_lws_hold();
	srv->ctx = lws_create_context(info);
	for (int i = 0; i < 2 && srv->ctx && srv->loop == LOOP_LIBUV; i++)
		sigaction(faults[i], &fault_sa[i], NULL);
	if (!srv->ctx) {
		log_lws_release(1);
		log_err("cannot start: libwebsockets context creation failed (see the lws lines above)");
		return -1;
	}
	srv->vhost = lws_create_vhost(srv->ctx, info);
	if (!srv->vhost) {
		/* our own explanation of a failed bind replaces lws's bare lines */
		int explained = srv->listen.fd < 0 && explain_listen_failure(cfg);
		log_lws_release(!explained);
		if (!explained)
			log_err("cannot start: libwebsockets vhost creation failed (bad TLS files? see the lws lines above)");
		destroy_unstarted(srv);
		return -1;
	}
	log_lws_release(1);
	return 0;
}

/*
 * Plain HTTP on loopback only, while the NCCO says https: that is a TLS
 * proxy in front of us. Without --trusted-proxy every caller would look
 * like the proxy (issue 19): say so before the first call, not after.
 */
static void warn_if_proxied_unknowingly(const struct config *cfg)
{
	struct addr a;

	if (cfg->n_trusted_proxy || cfg->tls_cert[0] || !cfg->public_secure || !cfg->listen[0])
		return;
	if (strcmp(cfg->listen, "localhost") && (addr_parse(cfg->listen, &a) || !addr_is_loopback(&a)))
		return;
	log_warn_ev("untrusted_proxy", "listening on %s without TLS behind an https --public-url: a proxy in front? "
		    "Then list it with --trusted-proxy (TRUSTED_PROXIES), or every caller looks like it", cfg->listen);
}

int server_create(struct server *srv, const struct config *cfg)
{
	struct lws_context_creation_info info;

	srv->cfg = cfg;
	srv->listen.fd = srv->listen.worker_fd = srv->listen.lws_fd = -1;
	listener_spare_open(srv);   /* first: the lowest number, below any limit set later */
	emit_srv = srv;
	int rc = init_tables(srv);
	if (rc)
		return rc;
	lws_set_log_level(LLL_ERR | LLL_WARN | (cfg->log_level >= LOG_DEBUG ? LLL_NOTICE | LLL_INFO : 0), lws_emit);
	fill_protocols(srv);
	if (cfg->reuse_port && listener_open(srv))
		return -1;
	fill_info(srv, &info);
	if (create_context(srv, &info)) {
		listener_close(srv);
		server_destroy(srv);
		return -1;
	}
	if (cfg->reuse_port && listener_attach(srv)) {
		server_destroy(srv);
		return -1;
	}
	listener_find_lws_socket(srv);
	/*
	 * With an event library, lws 4.1 runs the protocol init from inside its
	 * loop, when the listening socket already accepts: an upgrade arriving
	 * in between binds to protocol 0 (http, as "audio" is not yet the vhost
	 * default) and is never echoed. Under valgrind that window lasts ~0.5 s
	 * after /healthz already answers. Doing the init now closes it; lws
	 * skips a vhost whose protocols are initialised.
	 */
	if (lws_protocol_init(srv->ctx)) {
		log_err("cannot start: libwebsockets protocol init failed");
		server_destroy(srv);
		return -1;
	}
	lws_sul_schedule(srv->ctx, 0, &srv->tick, tick, TICK_US);
	char shared[64] = "";
	if (cfg->reuse_port)
		snprintf(shared, sizeof shared, " shared (SO_REUSEPORT)%s%.0d", cfg->worker_port ? ", own port " : "",
			 cfg->worker_port);
	const struct replay *jt = replay_store_table(&srv->replay);
	const struct replay_sizing *rz = &srv->replay_size;
	char jwhere[64];
	log_info_ev("listening", "caller-echo " CALLER_ECHO_VERSION " listening on %s:%d%s (%s, %s loop), NCCO uri from %s, rate %d, ring %u x %u bytes, max %d calls, secret from %s, "
		 "jti table %u slots (%.1f MiB, resident as used) in %s, for %llu live tokens (%u calls/s x %u x %u s)",
		 cfg->listen[0] ? cfg->listen : "*", cfg->port, shared,
		 cfg->tls_cert[0] ? "https/wss" : "http/ws",
		 loop_name(srv->loop),
		 cfg->public_base[0] ? cfg->public_url : "Host header", cfg->rate, cfg->ring_slots,
		 cfg->slot_bytes, cfg->max_calls, cfg->secret_source, jt ? jt->slots : 0,
		 jt ? (double)replay_bytes(jt->slots) / (1 << 20) : 0.0,
		 srv->replay.kind == REPLAY_REDIS ? "this process (Redis's fallback)"
						  : replay_store_describe(&srv->replay, jwhere, sizeof jwhere),
		 (unsigned long long)rz->live, rz->call_rate, rz->tokens_per_call, rz->lifetime_s);
	warn_if_proxied_unknowingly(cfg);
	return 0;
}

void server_run(struct server *srv, volatile const sig_atomic_t *stop)
{
	stop_flag = stop;
	while (!srv->done) {
		if (lws_service(srv->ctx, 0) < 0)
			break;
		check_stop(srv);   /* don't wait for the tick after a signal */
	}
}

void server_destroy(struct server *srv)
{
	char err[640];

	if (srv->blocks.dirty && srv->cfg && srv->cfg->block_file[0] &&
	    block_save(&srv->blocks, srv->cfg->block_file, clock_wall_s(), err, sizeof err))
		log_err("blocks not saved: %s", err);
	replay_store_close(&srv->replay);
	replay_destroy(srv->replay_local);
	srv->replay_local = NULL;
	if (srv->ctx) {
		lws_sul_cancel(&srv->tick);
		lws_context_destroy(srv->ctx);   /* closes every call: CLOSED gives its ring back */
		srv->ctx = NULL;
	}
	slot_pool_unmap(&srv->pool);
	peer_conns_free(srv);
	listener_spare_close(srv);
	emit_srv = NULL;
}
