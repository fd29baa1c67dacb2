/*
 * peer.cpp -- client addresses, connection accounting and refusals; see peer.h.
 *
 * lws tells us of a new connection in three steps: FILTER_NETWORK_CONNECTION
 * with the peer address (on the listening wsi), then
 * SERVER_NEW_CLIENT_INSTANTIATED on the new wsi (WSI_CREATE comes earlier,
 * but lws 4.1.6 overwrites the opaque pointer after it: adopt.c:154), and
 * at the very end WSI_DESTROY. What the first step counted rides to the
 * second in srv->conns (one thread, nothing in between) and is then kept
 * in the wsi's opaque user pointer until the connection becomes a call or
 * is destroyed: bit 0 says it counts in conns.open, the rest is its guard
 * slot + 1 (0 = none).
 */
#include "peer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clock.h"
#include "server_state.h"

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

int peer_is_local(const struct addr *tcp, int proxied)
{
	return !proxied && addr_is_loopback(tcp);
}

/*
 * Headers a proxy adds about the client it forwards. Any one of them means
 * the TCP peer is not where the request began, trusted or not.
 */
static int has_proxy_headers(struct lws *wsi)
{
	/* lws 4.1.6 parses X-Forwarded-For, X-Real-IP and Via itself (Debian
	 * builds it with LWS_WITH_HTTP_UNCOMMON_HEADERS); the rest arrive as
	 * custom headers */
	static const enum lws_token_indexes known[] = { WSI_TOKEN_X_FORWARDED_FOR, WSI_TOKEN_HTTP_X_REAL_IP,
							 WSI_TOKEN_HTTP_VIA };
	static const struct { const char *name; int len; } custom[] = {
		{ "forwarded:", 10 }, { "x-forwarded-proto:", 18 }, { "x-forwarded-host:", 17 },
	};

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (lws_hdr_total_length(wsi, known[i]) > 0)
			return 1;
	for (size_t i = 0; i < sizeof custom / sizeof custom[0]; i++)
		if (lws_hdr_custom_length(wsi, custom[i].name, custom[i].len) >= 0)
			return 1;
	return 0;
}

int peer_identify(struct lws *wsi, struct peer *p)
{
	const struct config *cfg = server_from_wsi(wsi)->cfg;
	static char xff[PEER_XFF_MAX + 1];   /* one thread; too big for the stack of every callback */
	char tcp_text[ADDR_STR_MAX + 8];
	struct addr tcp;
	const char *h = NULL;
	size_t n = 0;
	int r = -1;

	memset(p, 0, sizeof *p);
	/* lws gives IPv4 peers on a dual-stack socket as ::ffff:a.b.c.d; addr
	 * maps both to one form */
	if (lws_get_peer_simple(wsi, tcp_text, sizeof tcp_text) && !addr_parse(tcp_text, &tcp)) {
		p->proxied = has_proxy_headers(wsi);
		int trusted = cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &tcp);
		p->untrusted_proxy = p->proxied && !trusted;
		if (trusted && lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) > 0) {
			int c = lws_hdr_copy(wsi, xff, sizeof xff, WSI_TOKEN_X_FORWARDED_FOR);
			h = xff;
			n = c > 0 ? (size_t)c : PEER_XFF_MAX + 1;   /* did not fit: unknown */
		}
		r = peer_resolve(&tcp, h, n, cfg->trusted_proxy, cfg->n_trusted_proxy, &p->client);
		p->local = peer_is_local(&tcp, p->proxied);
	}
	if (r) {
		memset(&p->client, 0, sizeof p->client);
		snprintf(p->text, sizeof p->text, "?");
		p->local = 0;
		return -1;
	}
	p->known = 1;
	addr_format(&p->client, p->text, sizeof p->text);
	return 0;
}

int peer_addr(struct lws *wsi, char *buf, size_t len, struct addr *out)
{
	struct peer p;
	int r = peer_identify(wsi, &p);

	snprintf(buf, len, "%s", p.text);
	if (out)
		*out = p.client;
	return r;
}

#define PROXY_WARN_EVERY_S 3600

void peer_note_request(struct server *srv, const struct peer *p)
{
	time_t now = clock_wall_s();

	if (!p->untrusted_proxy)
		return;
	srv->stats.proxy_untrusted++;
	if (srv->proxy_warned_at && now - srv->proxy_warned_at < PROXY_WARN_EVERY_S)
		return;
	srv->proxy_warned_at = now;
	const struct log_field lf[] = { LOG_STR("remote", p->text), LOG_NUM("count", srv->stats.proxy_untrusted) };
	LOG_FIELDS(LOG_ERROR, "untrusted_proxy", lf,
		   "requests from %s carry proxy headers (X-Forwarded-For, Forwarded, X-Real-IP, X-Forwarded-*) but it "
		   "is not a --trusted-proxy (%llu so far): every client behind it looks like %s, so per-address "
		   "limits, blocks and fail2ban cannot tell them apart, and none of them is treated as this host. If "
		   "it is your proxy, list it: --trusted-proxy %s (TRUSTED_PROXIES in the environment file)",
		   p->text, (unsigned long long)srv->stats.proxy_untrusted, p->text, p->text);
}

/* ---- refusals -------------------------------------------------------------- */

int peer_log(struct server *srv, struct log_limit *lim, const struct addr *a, const struct log_field *f, size_t n,
	     const char *fmt, ...)
{
	struct log_field all[9];
	uint32_t held = 0;
	va_list ap;

	if (a && !guard_log_allow(&srv->guard, a, (uint64_t)(clock_mono_us() / 1000), &held)) {
		srv->stats.log_held_back++;
		return 0;
	}
	if (n > 8)
		n = 8;
	memcpy(all, f, n * sizeof *f);
	if (held) {
		const struct log_field h = LOG_NUM("held_back", held);
		all[n++] = h;
	}
	va_start(ap, fmt);
	int r = log_limited_fieldsv(lim, clock_wall_s(), all, n, fmt, ap);
	va_end(ap);
	return r;
}

void peer_refused(struct server *srv, const struct addr *a, int reason)
{
	time_t now = clock_wall_s();

	srv->stats.rejected[reason]++;
	if (!a || !block_strike(&srv->blocks, &srv->guard, &srv->block_policy, a, reason, now,
				(uint64_t)(clock_mono_us() / 1000)))
		return;
	/* what was blocked: the client's network (an IPv6 /64), not just this address */
	char peer[CIDR_STR_MAX], until[32], result[80];
	struct cidr net = guard_client(&srv->guard, a);
	if (net.bits == 128)
		addr_format(a, peer, sizeof peer);
	else
		cidr_format(&net, peer, sizeof peer);
	stats_iso8601(now + srv->block_policy.seconds, until, sizeof until);
	snprintf(result, sizeof result, "until %s", until);
	stats_admin_record(&srv->stats, now, -1, "auto_block", peer, "auto", result);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_STR("reason", refusal_name(reason)),
					LOG_NUM("seconds", srv->block_policy.seconds) };
	log_limited_fields(&srv->block_log, now, lf, sizeof lf / sizeof lf[0],
			   "blocked %s for %u s: %u refusals within %u s (last: %s)", peer,
			   srv->block_policy.seconds, srv->block_policy.after, srv->block_policy.window_s,
			   refusal_name(reason));
}

int peer_blocked(struct server *srv, const struct addr *a)
{
	return srv->blocks.n && block_match(&srv->blocks, a, clock_wall_s());
}

/* ---- connection accounting ------------------------------------------------ */

static uint32_t fd_limit(void)
{
	struct rlimit rl;
	rlim_t lim = getrlimit(RLIMIT_NOFILE, &rl) ? 1024 : rl.rlim_cur;
	return lim > (1u << 20) ? 1u << 20 : (uint32_t)lim;
}

/*
 * Pending connections (accepted, not calls) are kept in one list, oldest
 * first, in a table of records allocated once. When every descriptor the
 * server may use is taken, a new connection does not get refused: the
 * oldest pending connection of the client holding the most is closed
 * instead (make_room). So a few addresses trickling request bodies can no
 * longer take every slot and starve new calls and health checks for the
 * body timeout; they only ever push out their own connections.
 *
 * A connection's opaque user pointer says what it holds: NULL nothing,
 * COUNTED_ONLY a descriptor in conns.open (a call, or a pending connection
 * that got no record), else its record.
 */
#define COUNTED_ONLY ((void *)1)
#define EVICTING_MAX (CONNS_RESERVE / 2)   /* descriptors evictions may borrow from the reserve */

void peer_conns_init(struct server *srv)
{
	/* accepted connections stop CONNS_RESERVE short of the open-file limit
	 * (main() sets it to --max-calls + 256): listeners, logs, certificate
	 * files and the event library keep the rest */
	struct server_conns *c = &srv->conns;
	c->limit_start = c->limit = fd_limit();
	c->max = c->limit > CONNS_RESERVE ? c->limit - CONNS_RESERVE : 1;
	c->slot = GUARD_NO_SLOT;
	c->oldest = c->newest = c->pend_free = PENDING_NONE;
	/* calloc: pages of records never used are never resident */
	c->pend = (struct pending_conn *)calloc(c->max, sizeof *c->pend);
	c->pend_cap = c->pend ? c->max : 0;
	for (uint32_t i = c->pend_cap; i > 0; i--) {
		c->pend[i - 1].next = c->pend_free;
		c->pend_free = i - 1;
	}
}

void peer_conns_free(struct server *srv)
{
	free(srv->conns.pend);
	srv->conns.pend = NULL;
	srv->conns.pend_cap = 0;
	srv->conns.pend_free = PENDING_NONE;
}

static void pending_unlink(struct server_conns *c, struct pending_conn *p)
{
	uint32_t i = (uint32_t)(p - c->pend);

	if (p->prev != PENDING_NONE)
		c->pend[p->prev].next = p->next;
	else
		c->oldest = p->next;
	if (p->next != PENDING_NONE)
		c->pend[p->next].prev = p->prev;
	else
		c->newest = p->prev;
	if (p->slot == GUARD_NO_SLOT && c->unslotted)
		c->unslotted--;
	if (p->evicting && c->evicting)
		c->evicting--;
	memset(p, 0, sizeof *p);
	p->next = c->pend_free;
	c->pend_free = i;
}

/* How many pending connections p's client holds. */
static uint32_t pending_of(const struct server *srv, const struct pending_conn *p)
{
	return p->slot == GUARD_NO_SLOT ? srv->conns.unslotted : srv->guard.tab[p->slot].pending;
}

/*
 * Every descriptor is taken: ask the oldest pending connection of the
 * client holding the most to close (lws closes it on its next pass, so the
 * new connection borrows a descriptor from the reserve meanwhile). 1 if
 * one was found.
 */
static int make_room(struct server *srv)
{
	struct server_conns *c = &srv->conns;
	struct pending_conn *victim = NULL;
	uint32_t most = 0;

	if (c->evicting >= EVICTING_MAX)
		return 0;
	for (uint32_t i = c->oldest; i != PENDING_NONE; i = c->pend[i].next) {
		struct pending_conn *p = &c->pend[i];
		uint32_t n = pending_of(srv, p);
		if (!p->evicting && n > most) {   /* strictly more: the oldest of the top client wins */
			most = n;
			victim = p;
		}
	}
	if (!victim)
		return 0;
	victim->evicting = 1;
	c->evicting++;
	c->evicted++;
	/* not the client's fault, so no strike and not in the refusal log */
	char peer[ADDR_STR_MAX];
	peer_addr(victim->wsi, peer, sizeof peer, NULL);
	const struct log_field lf[] = { LOG_STR("remote", peer), LOG_NUM("pending", most) };
	log_limited_fields(&srv->evict_log, clock_wall_s(), lf, sizeof lf / sizeof lf[0],
			   "closed the oldest of %u pending connections from %s: every descriptor was taken", most, peer);
	lws_set_timeout(victim->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	return 1;
}

void peer_conns_follow_limit(struct server *srv)
{
	uint32_t lim = fd_limit();
	if (lim == srv->conns.limit)
		return;
	uint32_t use = lim < srv->conns.limit_start ? lim : srv->conns.limit_start;
	srv->conns.limit = lim;
	srv->conns.max = use > CONNS_RESERVE ? use - CONNS_RESERVE : 1;
	log_warn("open-file limit now %u: at most %u connections (%u open)%s", lim, srv->conns.max, srv->conns.open,
		 lim > srv->conns.limit_start ? "; lws's tables keep the size the limit at start gave them" : "");
}

static void release_accept(struct server *srv)
{
	guard_conn_done(&srv->guard, srv->conns.slot);
	srv->conns.slot = GUARD_NO_SLOT;
	if (srv->conns.counted && srv->conns.open)
		srv->conns.open--;
	srv->conns.counted = 0;
}

static int refuse_at_accept(struct server *srv, const struct addr *a, int reason)
{
	char peer[ADDR_STR_MAX];

	release_accept(srv);
	peer_refused(srv, a, reason);
	if (a)
		addr_format(a, peer, sizeof peer);
	const struct log_field lf[] = { LOG_STR("remote", a ? peer : "?"), LOG_STR("reason", refusal_name(reason)) };
	peer_log(srv, &srv->reject_log, a, lf, sizeof lf / sizeof lf[0],
		 "refused connection from %s: %s (closed at accept)", a ? peer : "?", refusal_name(reason));
	return 1;   /* lws closes the socket; nothing was read from it */
}

int peer_conn_filter(struct server *srv, const void *filter_args)
{
	const struct lws_filter_network_conn_args *f = (const struct lws_filter_network_conn_args *)filter_args;
	const struct config *cfg = srv->cfg;
	struct addr a;
	int have_addr;

	/* an adoption that failed before NEW_CLIENT_INSTANTIATED never claimed these */
	release_accept(srv);
	have_addr = f && !addr_from_sockaddr((const struct sockaddr *)&f->cli_addr, &a);

	/*
	 * A blocked address is shut out before it can send a byte. Not a
	 * trusted proxy (its clients are judged one by one, by their forwarded
	 * address) and not loopback: a blocked loopback client is refused per
	 * request, so the operator on this host can always reach /admin/unblock.
	 */
	if (have_addr && srv->blocks.n && !addr_is_loopback(&a) &&
	    !cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a) && peer_blocked(srv, &a))
		return refuse_at_accept(srv, &a, REJECT_BLOCKED);
	/*
	 * Never let accept() run out of descriptors: lws 4.1.6 then leaves the
	 * listening socket readable and spins, logging each failure. Past the
	 * limit a pending connection makes room (make_room), else the newest
	 * is closed at once, keeping a margin free for the process.
	 */
	if (srv->conns.open >= srv->conns.max && !make_room(srv))
		return refuse_at_accept(srv, have_addr ? &a : NULL, REJECT_CONNS_FULL);
	srv->conns.open++;
	srv->conns.counted = 1;
	if (!have_addr)
		return 0;
	/* a proxy carries many clients' connections: its clients are limited
	 * at the handshake, by their forwarded address */
	if (cidr_list_match(cfg->trusted_proxy, cfg->n_trusted_proxy, &a))
		return 0;
	enum guard_result r = guard_conn_open(&srv->guard, &a, (uint64_t)(clock_mono_us() / 1000), &srv->conns.slot);
	if (r == GUARD_OK)
		return 0;
	return refuse_at_accept(srv, &a, r == GUARD_CONNS ? REJECT_ADDR_CONNS : REJECT_ADDR_TABLE_FULL);
}

void peer_conn_created(struct lws *wsi)
{
	struct server *srv = server_from_wsi(wsi);
	struct server_conns *c = &srv->conns;

	if (!c->counted) {
		guard_conn_done(&srv->guard, c->slot);   /* not ours to keep (should not happen) */
		c->slot = GUARD_NO_SLOT;
		return;
	}
	void *v = COUNTED_ONLY;
	if (c->pend_free != PENDING_NONE) {
		uint32_t i = c->pend_free;
		struct pending_conn *p = &c->pend[i];
		c->pend_free = p->next;
		p->wsi = wsi;
		p->slot = c->slot;
		p->evicting = 0;
		p->next = PENDING_NONE;
		p->prev = c->newest;
		if (c->newest != PENDING_NONE)
			c->pend[c->newest].next = i;
		else
			c->oldest = i;
		c->newest = i;
		if (p->slot == GUARD_NO_SLOT)
			c->unslotted++;
		v = p;
	} else {
		guard_conn_done(&srv->guard, c->slot);   /* untracked: no per-address count to keep */
	}
	lws_set_opaque_user_data(wsi, v);
	c->slot = GUARD_NO_SLOT;
	c->counted = 0;
}

void peer_conn_upgraded(struct lws *wsi)
{
	struct server *srv = server_from_wsi(wsi);
	void *v = lws_get_opaque_user_data(wsi);

	if (!v || v == COUNTED_ONLY)
		return;
	struct pending_conn *p = (struct pending_conn *)v;
	guard_conn_done(&srv->guard, p->slot);
	pending_unlink(&srv->conns, p);
	lws_set_opaque_user_data(wsi, COUNTED_ONLY);   /* still an open descriptor */
}

void peer_conn_destroyed(struct lws *wsi)
{
	struct server *srv = server_from_wsi(wsi);

	peer_conn_upgraded(wsi);
	if (lws_get_opaque_user_data(wsi) == COUNTED_ONLY && srv->conns.open)
		srv->conns.open--;
	lws_set_opaque_user_data(wsi, NULL);
}
