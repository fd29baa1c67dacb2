/*
 * peer.cpp -- client addresses, connection accounting and refusals; see peer.h.
 *
 * lws tells us of a new connection in three steps: FILTER_NETWORK_CONNECTION
 * with the peer address (on the listening wsi), then
 * SERVER_NEW_CLIENT_INSTANTIATED on the new wsi (WSI_CREATE comes earlier,
 * but lws 4.1.6 overwrites the opaque pointer after it: adopt.c:154), and
 * at the very end WSI_DESTROY. What the first step counted rides to the
 * second in app->conns (one thread, nothing in between) and is then kept
 * in the wsi's opaque user pointer until the connection becomes a call or
 * is destroyed: bit 0 says it counts in conns.open, the rest is its guard
 * slot + 1 (0 = none).
 */
#include "peer.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "app.h"

#define CONNS_RESERVE 64   /* descriptors kept back from accepted connections */

int peer_resolve(const struct addr *tcp, const char *xff, size_t len, const struct cidr *trusted, int ntrusted,
		 struct addr *out)
{
	if (!xff || !cidr_list_match(trusted, ntrusted, tcp)) {
		*out = *tcp;
		return 0;
	}
	if (len > PEER_XFF_MAX) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	/*
	 * The right-most entry is the one our proxy appended; anything left of
	 * it came from the client and proves nothing (lws joins repeated
	 * headers with commas). A last entry that is not an address is not
	 * taken to mean the proxy itself: that would make a remote client
	 * "loopback" behind a local proxy.
	 */
	const char *last = xff;
	for (size_t i = len; i > 0; i--)
		if (xff[i - 1] == ',') {
			last = xff + i;
			break;
		}
	if (!addr_parse_n(last, len - (size_t)(last - xff), out))
		return 0;
	memset(out, 0, sizeof *out);
	return -1;
}

int peer_addr(struct lws *wsi, char *buf, size_t len, struct addr *out)
{
	const struct config *cfg = app_from_wsi(wsi)->cfg;
	static char xff[PEER_XFF_MAX + 1];   /* one thread; too big for the stack of every callback */
	char tcp_text[ADDR_STR_MAX + 8];
	struct addr tcp, a;
	const char *h = NULL;
	size_t n = 0;
	int r = -1;

	/* lws gives IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d; addr
	 * maps both to one form */
	if (lws_get_peer_simple(wsi, tcp_text, sizeof tcp_text) && !addr_parse(tcp_text, &tcp)) {
		if (cfg->n_trusted_proxy && lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0) {
			int c = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
			h = xff;
			n = c > 0 ? (size_t)c : PEER_XFF_MAX + 1;   /* did not fit: unknown */
		}
		r = peer_resolve(&tcp, h, n, cfg->trusted_proxy, cfg->n_trusted_proxy, &a);
	}
	if (r) {
		memset(&a, 0, sizeof a);
		snprintf(buf, len, "?");
	} else {
		addr_format(&a, buf, len);
	}
	if (out)
		*out = a;
	return r;
}

/* ---- refusals -------------------------------------------------------------- */

void peer_refused(struct app *app, const struct addr *a, int reason)
{
	time_t now = time(NULL);

	app->stats.rejected[reason]++;
	if (!a || !block_strike(&app->blocks, &app->guard, &app->block_policy, a, reason, now,
				(uint64_t)(lws_now_usecs() / 1000)))
		return;
	char peer[ADDR_STR_MAX], until[32], result[80];
	addr_format(a, peer, sizeof peer);
	stats_iso8601(now + app->block_policy.seconds, until, sizeof until);
	snprintf(result, sizeof result, "until %s", until);
	stats_admin_record(&app->stats, now, -1, "auto_block", peer, "auto", result);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", stats_reject_str(reason)),
					LOG_NUM("seconds", app->block_policy.seconds) };
	log_limited_fields(&app->block_log, now, lf, sizeof lf / sizeof lf[0],
			   "blocked %s for %u s: %u refusals within %u s (last: %s)", peer,
			   app->block_policy.seconds, app->block_policy.after, app->block_policy.window_s,
			   stats_reject_str(reason));
}

int peer_blocked(struct app *app, const struct addr *a)
{
	return app->blocks.n && block_match(&app->blocks, a, time(NULL));
}

/* ---- connection accounting ------------------------------------------------ */

static uint32_t fd_limit(void)
{
	struct rlimit rl;
	rlim_t lim = getrlimit(RLIMIT_NOFILE, &rl) ? 1024 : rl.rlim_cur;
	return lim > (1u << 20) ? 1u << 20 : (uint32_t)lim;
}

void peer_conns_init(struct app *app)
{
	/* accepted connections stop CONNS_RESERVE short of the open-file limit
	 * (main() sets it to --max-calls + 256): listeners, logs, certificate
	 * files and the event library keep the rest */
	app->conns.limit_start = app->conns.limit = fd_limit();
	app->conns.max = app->conns.limit > CONNS_RESERVE ? app->conns.limit - CONNS_RESERVE : 1;
	app->conns.slot = GUARD_NO_SLOT;
}

void peer_conns_follow_limit(struct app *app)
{
	uint32_t lim = fd_limit();
	if (lim == app->conns.limit)
		return;
	uint32_t use = lim < app->conns.limit_start ? lim : app->conns.limit_start;
	app->conns.limit = lim;
	app->conns.max = use > CONNS_RESERVE ? use - CONNS_RESERVE : 1;
	log_warn("open-file limit now %u: at most %u connections (%u open)%s", lim, app->conns.max, app->conns.open,
		 lim > app->conns.limit_start ? "; lws's tables keep the size the limit at start gave them" : "");
}

static void release_accept(struct app *app)
{
	guard_conn_done(&app->guard, app->conns.slot);
	app->conns.slot = GUARD_NO_SLOT;
	if (app->conns.counted && app->conns.open)
		app->conns.open--;
	app->conns.counted = 0;
}

static int refuse_at_accept(struct app *app, const struct addr *a, int reason)
{
	char peer[ADDR_STR_MAX];

	release_accept(app);
	peer_refused(app, a, reason);
	if (a)
		addr_format(a, peer, sizeof peer);
	const struct log_field lf[] = { LOG_STR("remote", a ? peer : "?"), LOG_STR("reason", stats_reject_str(reason)) };
	log_limited_fields(&app->reject_log, time(NULL), lf, sizeof lf / sizeof lf[0],
			   "refused connection from %s: %s (closed at accept)", a ? peer : "?", stats_reject_str(reason));
	return 1;   /* lws closes the socket; nothing was read from it */
}

int peer_conn_filter(struct app *app, const void *filter_args)
{
	const struct lws_filter_network_conn_args *f = (const struct lws_filter_network_conn_args *)filter_args;
	const struct config *cfg = app->cfg;
	struct addr a;
	int have_addr;

	/* an adoption that failed before NEW_CLIENT_INSTANTIATED never claimed these */
	release_accept(app);
	have_addr = f && !addr_from_sockaddr((const struct sockaddr *)&f->cli_addr, &a);

	/*
	 * A blocked address is shut out before it can send a byte. Not a
	 * trusted proxy (its clients are judged one by one, by their forwarded
	 * address) and not loopback: a blocked loopback client is refused per
	 * request, so the operator on this host can always reach /admin/unblock.
	 */
	if (have_addr && app->blocks.n && !addr_is_loopback(&a) &&
	    !cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a) && peer_blocked(app, &a))
		return refuse_at_accept(app, &a, REJECT_BLOCKED);
	/*
	 * Never let accept() run out of descriptors: lws 4.1.6 then leaves the
	 * listening socket readable and spins, logging each failure. Closing
	 * the newest connection at once keeps a margin free for the process.
	 */
	if (app->conns.open >= app->conns.max)
		return refuse_at_accept(app, have_addr ? &a : NULL, REJECT_CONNS_FULL);
	app->conns.open++;
	app->conns.counted = 1;
	if (!have_addr)
		return 0;
	/* a proxy carries many clients' connections: its clients are limited
	 * at the handshake, by their forwarded address */
	if (cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a))
		return 0;
	enum guard_result r = guard_conn_open(&app->guard, &a, (uint64_t)(lws_now_usecs() / 1000), &app->conns.slot);
	if (r == GUARD_OK)
		return 0;
	return refuse_at_accept(app, &a, r == GUARD_CONNS ? REJECT_ADDR_CONNS : REJECT_ADDR_TABLE_FULL);
}

void peer_conn_created(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);
	if (app->conns.slot == GUARD_NO_SLOT && !app->conns.counted)
		return;
	uintptr_t slot = app->conns.slot == GUARD_NO_SLOT ? 0 : (uintptr_t)app->conns.slot + 1;
	lws_set_opaque_user_data(wsi, (void *)(slot << 1 | (uintptr_t)app->conns.counted));
	app->conns.slot = GUARD_NO_SLOT;
	app->conns.counted = 0;
}

void peer_conn_upgraded(struct lws *wsi)
{
	uintptr_t v = (uintptr_t)lws_get_opaque_user_data(wsi);
	if (!(v >> 1))
		return;
	guard_conn_done(&app_from_wsi(wsi)->guard, (uint32_t)((v >> 1) - 1));
	lws_set_opaque_user_data(wsi, (void *)(v & 1));   /* still an open descriptor */
}

void peer_conn_destroyed(struct lws *wsi)
{
	struct app *app = app_from_wsi(wsi);

	peer_conn_upgraded(wsi);
	if ((uintptr_t)lws_get_opaque_user_data(wsi) & 1 && app->conns.open)
		app->conns.open--;
	lws_set_opaque_user_data(wsi, NULL);
}
