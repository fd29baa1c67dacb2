/*
 * engine.cpp -- the single-threaded epoll load engine; see engine.h.
 *
 * Layout: call lifecycle (start, connect, TLS, upgrade, stream, drain,
 * close, finish) on top of three small pieces -- the deadline heap, the
 * output buffer (frames are built in place, flushed with one send() each,
 * EPOLLOUT armed only while bytes wait) and the input parser (whole frames
 * handled in place, a partial one moved to the front). Sockets are
 * level-triggered: one recv() per readiness report for plain TCP, which is
 * one syscall per echo at paced rates; TLS reads loop until WANT_READ
 * because OpenSSL may hold decrypted bytes epoll cannot see.
 */
#include "engine.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "jwt_mint.h"
#include "tls.h"

#define EVENTS_MAX       512
#define CLOSE_WAIT_NS    1000000000ull   /* for the server's close frame */
#define DTMF_GAP_NS      300000000ull    /* between digits */
#define DTMF_DURATION_MS 260             /* Vonage's example value */

/* A pause frame's samples (script.h); the largest frame is 960 bytes. */
static const uint8_t zeros[960] = {};

static const char *const state_names[] = {
	"waiting", "connecting", "tls", "upgrade", "stream", "drain", "closing", "done", "failed", "skipped",
};

const char *engine_state_str(enum call_state s)
{
	return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

static int finish(struct engine *e, struct call *c, int ok);

/* ---- deadline heap ---------------------------------------------------- */

static void heap_swap(struct engine *e, int a, int b)
{
	struct call *t = e->heap[a];
	e->heap[a] = e->heap[b];
	e->heap[b] = t;
	e->heap[a]->heap_pos = a;
	e->heap[b]->heap_pos = b;
}

static void heap_up(struct engine *e, int i)
{
	while (i > 0 && e->heap[(i - 1) / 2]->due > e->heap[i]->due) {
		heap_swap(e, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct engine *e, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < e->heap_n && e->heap[l]->due < e->heap[m]->due)
			m = l;
		if (r < e->heap_n && e->heap[r]->due < e->heap[m]->due)
			m = r;
		if (m == i)
			return;
		heap_swap(e, i, m);
		i = m;
	}
}

/* Set c's single deadline (insert, or move it). */
static void sched(struct engine *e, struct call *c, uint64_t due)
{
	if (c->heap_pos < 0) {
		c->heap_pos = e->heap_n++;
		e->heap[c->heap_pos] = c;
		c->due = due;
		heap_up(e, c->heap_pos);
		return;
	}
	uint64_t old = c->due;
	c->due = due;
	if (due < old)
		heap_up(e, c->heap_pos);
	else
		heap_down(e, c->heap_pos);
}

static void unsched(struct engine *e, struct call *c)
{
	int i = c->heap_pos;

	if (i < 0)
		return;
	c->heap_pos = -1;
	if (--e->heap_n == i)
		return;
	e->heap[i] = e->heap[e->heap_n];
	e->heap[i]->heap_pos = i;
	heap_up(e, i);
	heap_down(e, e->heap[i]->heap_pos);
}

/* ---- small helpers ------------------------------------------------------ */

static uint32_t rng32(struct engine *e)
{
	/* xorshift64*: mask keys only need to differ per frame, not be secret */
	e->rng ^= e->rng >> 12;
	e->rng ^= e->rng << 25;
	e->rng ^= e->rng >> 27;
	return (uint32_t)((e->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* A CLOCK_REALTIME instant as us since the run began; wraps after 71 min, RTTs subtract mod 2^32. */
static uint32_t rtt_clock_us(const struct engine *e, uint64_t realtime_ns)
{
	return (uint32_t)((realtime_ns - e->rt0) / 1000);
}

static int fail(struct engine *e, struct call *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct engine *e, struct call *c, const char *fmt, ...)
{
	if (!c->err[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof c->err, fmt, ap);
		va_end(ap);
	}
	return finish(e, c, 0);   /* always -1: the call is over */
}

/* Register interest in ev (EPOLLIN/EPOLLOUT); no syscall when unchanged. */
static int set_events(struct engine *e, struct call *c, uint32_t ev)
{
	struct epoll_event ee;

	if (c->ev == ev)
		return 0;
	memset(&ee, 0, sizeof ee);
	ee.events = ev;
	ee.data.ptr = c;
	if (epoll_ctl(e->epfd, c->ev ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ee) < 0)
		return fail(e, c, "epoll_ctl: %s", strerror(errno));
	c->ev = ev;
	return 0;
}

/* ---- output ------------------------------------------------------------- */

/* Room for need more bytes at out_len, compacting if that helps. */
static int out_room(struct call *c, size_t need)
{
	if (ENGINE_OUT_CAP - c->out_len >= need)
		return 1;
	if (c->out_off && ENGINE_OUT_CAP - (c->out_len - c->out_off) >= need) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		return 1;
	}
	return 0;
}

/*
 * Write what waits in c->out. Returns 0 (all written, or the rest waits for
 * EPOLLOUT), or -1 when the call failed.
 */
static int flush(struct engine *e, struct call *c)
{
	while (c->out_off < c->out_len) {
		size_t len = c->out_len - c->out_off;
		if (c->ssl) {
			int n = SSL_write(c->ssl, c->out + c->out_off, (int)len);
			if (n > 0) {
				c->out_off += (uint32_t)n;
				continue;
			}
			int se = SSL_get_error(c->ssl, n);
			if (se == SSL_ERROR_WANT_WRITE)
				return set_events(e, c, EPOLLIN | EPOLLOUT);
			if (se == SSL_ERROR_WANT_READ)
				return 0;   /* renegotiation: the next EPOLLIN retries via do_read */
			char why[ENGINE_ERR_MAX];
			tls_error(c->ssl, "TLS write", why, sizeof why);
			return fail(e, c, "%s", why);
		}
		ssize_t n = send(c->fd, c->out + c->out_off, len, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (uint32_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return set_events(e, c, EPOLLIN | EPOLLOUT);
		return fail(e, c, "send: %s", n < 0 ? strerror(errno) : "wrote nothing");
	}
	c->out_off = c->out_len = 0;
	return (c->ev & EPOLLOUT) ? set_events(e, c, EPOLLIN) : 0;
}

/* Queue one small masked control/text frame. -1 if it does not fit (caller fails the call). */
static int queue_frame(struct engine *e, struct call *c, int op, const void *payload, size_t len)
{
	uint32_t m = rng32(e);
	uint8_t mask[4];

	memcpy(mask, &m, 4);
	if (!out_room(c, WSF_CLIENT_HDR_MAX + len))
		return -1;
	size_t h = wsf_client_header(c->out + c->out_len, op, len, mask);
	wsf_mask_copy(c->out + c->out_len + h, (const uint8_t *)payload, len, mask, 0);
	c->out_len += (uint32_t)(h + len);
	return 0;
}

/* What the ledger counted, into the call's result and the live totals. */
static void count(struct engine *e, struct call *c, const struct ledger_counts *d)
{
	c->r.sent += d->sent;
	c->r.echoed += d->echoed;
	c->r.lost += d->lost;
	c->r.mismatched += d->mismatched;
	c->r.late += d->late;
	e->tot_sent += d->sent;
	e->tot_echoed += d->echoed;
	e->tot_lost += d->lost;
	e->tot_mismatched += d->mismatched;
}

/*
 * Build and send the next frame: the source frame with its stamp, masked
 * straight into the output buffer. Returns 1 sent, 0 no room (counted as
 * stalled), -1 call failed.
 */
static int send_frame(struct engine *e, struct call *c)
{
	uint32_t fb = c->src->frame_bytes;
	uint8_t stamp[AUDIO_STAMP_BYTES], mask[4];
	struct ledger_counts d = {};

	if (!out_room(c, WSF_CLIENT_HDR_MAX + fb)) {
		c->r.stalled++;
		return 0;
	}
	uint32_t seq = ledger_send(&c->led, rtt_clock_us(e, util_realtime_ns()), &d);
	count(e, c, &d);
	/* the scripted caller: talk (the source) or pause (zeros), stamped either way */
	unsigned kind = c->pl ? script_next(&c->pl->sc, seq, c->pl->tick) : (unsigned)SCRIPT_TALK;
	if (c->pl)
		chk_sent(&c->pl->ck, seq, c->pl->tick,
			 ((kind & SCRIPT_TALK) ? CHK_SENT_TALK : 0) | ((kind & SCRIPT_BARGE) ? CHK_SENT_BARGE : 0),
			 util_now_ns());
	uint32_t m = rng32(e);
	memcpy(mask, &m, 4);
	uint8_t *dst = c->out + c->out_len;
	size_t h = wsf_client_header(dst, WSF_OP_BINARY, fb, mask);
	const uint8_t *pcm = (kind & SCRIPT_TALK) ? audio_frame(c->src, seq) : zeros;
	audio_stamp(stamp, seq);
	wsf_mask_copy(dst + h, stamp, AUDIO_STAMP_BYTES, mask, 0);
	wsf_mask_copy(dst + h + AUDIO_STAMP_BYTES, pcm + AUDIO_STAMP_BYTES, fb - AUDIO_STAMP_BYTES, mask,
		      AUDIO_STAMP_BYTES);
	c->out_len += (uint32_t)(h + fb);
	return flush(e, c) ? -1 : 1;
}

/*
 * This tick's frame, as the impairments have it (engine.h): in a gap it is
 * held (--burst) or never sent; after a gap the held frames go first, all
 * at once. What was injected is counted in c->r.inj_*, with RFC 3550 jitter
 * (A.8, gain 1/16) over the send times of frames sent on consecutive ticks,
 * so a gap or a burst is not counted as jitter. Returns send_frame's result.
 */
static int impaired_send(struct engine *e, struct call *c)
{
	const struct engine_opts *o = e->o;
	int r;

	if (o->gap_every && c->ticks % o->gap_every >= o->gap_every - o->gap_len) {
		if (c->ticks % o->gap_every == o->gap_every - o->gap_len)
			c->r.inj_gaps++;
		c->r.inj_gap_frames++;
		c->held += o->burst;
		return 0;
	}
	for (; c->held; c->held--, c->r.inj_burst_frames++)
		if ((r = send_frame(e, c)) < 0)
			return r;
	if ((r = send_frame(e, c)) <= 0)
		return r;
	uint64_t t = util_now_ns();
	if (c->sent_tick + 1 == c->ticks && c->last_sent_ns) {
		int64_t d = (int64_t)(t - c->last_sent_ns) / 1000 - (int64_t)(ENGINE_PERIOD_NS / 1000);
		if (d < 0)
			d = -d;
		c->r.inj_jitter16_us += d - (((int64_t)c->r.inj_jitter16_us + 8) >> 4);
	}
	c->last_sent_ns = t;
	c->sent_tick = c->ticks;
	return r;
}

/* Send the next DTMF digit when its time has come. -1 if the call failed. */
static int maybe_dtmf(struct engine *e, struct call *c, uint64_t now)
{
	char msg[96];
	const char *d = e->o->dtmf;

	if (!d || !d[c->dtmf_idx] || now < c->dtmf_due)
		return 0;
	int n = snprintf(msg, sizeof msg, "{\"event\":\"websocket:dtmf\",\"digit\":\"%c\",\"duration\":%d}",
			 d[c->dtmf_idx], DTMF_DURATION_MS);
	if (n < 0 || (size_t)n >= sizeof msg)
		return fail(e, c, "DTMF event does not fit");
	if (queue_frame(e, c, WSF_OP_TEXT, msg, (size_t)n))
		return 0;   /* the server is not reading: the next tick tries again */
	c->dtmf_idx++;
	c->dtmf_due += DTMF_GAP_NS;
	c->r.dtmf_sent++;
	return flush(e, c);
}

/* ---- ending a call ------------------------------------------------------ */

static int start_close(struct engine *e, struct call *c, uint64_t now)
{
	static const uint8_t normal[2] = { 1000 >> 8, 1000 & 0xff };

	c->state = CALL_CLOSING;
	sched(e, c, now + CLOSE_WAIT_NS);
	if (queue_frame(e, c, WSF_OP_CLOSE, normal, sizeof normal))
		return fail(e, c, "cannot queue the close frame: output buffer full");
	return flush(e, c);
}

/* The first instant on this call's phase of the 20 ms grid after now. */
static uint64_t next_tick(const struct engine *e, const struct call *c, uint64_t now)
{
	uint64_t base = e->t0 + c->phase;

	if (now < base)
		return base;
	return base + ((now - base) / ENGINE_PERIOD_NS + 1) * ENGINE_PERIOD_NS;
}

static int enter_drain(struct engine *e, struct call *c, uint64_t now)
{
	c->state = CALL_DRAIN;
	if (c->pl) {
		/* playout goes on tick by tick: what is still queued or on its way is heard */
		c->pl->drain_end = now + (uint64_t)e->o->drain_ms * 1000000ull;
		sched(e, c, next_tick(e, c, now));
		return 0;
	}
	if (!c->led.outstanding)
		return start_close(e, c, now);
	sched(e, c, now + (uint64_t)e->o->drain_ms * 1000000ull);
	return 0;
}

/* Release the socket, count what never came back. Always returns -1 ("stop touching c"). */
static int finish(struct engine *e, struct call *c, int ok)
{
	if (c->state >= CALL_DONE)
		return -1;
	struct ledger_counts d = {};
	ledger_finish(&c->led, &d);
	count(e, c, &d);
	if (c->pl) {
		struct call_play *pl = c->pl;
		c->r.heard = pl->pb.heard;
		c->r.silence = pl->pb.silence;
		c->r.playback_overflow = pl->pb.overflow;
		c->r.cleared = pl->pb.cleared;
		chk_finish(&pl->ck, c->r.notify_received, c->r.notify_answered, c->r.bad_commands, c->r.bad_frames);
		c->r.check_failed = pl->ck.faults > 0;
		memcpy(c->r.check, pl->ck.why, sizeof c->r.check);
	}
	if (c->ssl) {
		if (ok)
			SSL_shutdown(c->ssl);   /* one non-blocking attempt at close_notify */
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);   /* also leaves the epoll set */
	c->fd = -1;
	c->ev = 0;
	unsched(e, c);
	c->state = ok ? CALL_DONE : CALL_FAILED;
	e->active--;
	e->last_end = util_now_ns();
	return -1;
}

/* ---- connection set-up --------------------------------------------------- */

static int send_upgrade(struct engine *e, struct call *c)
{
	const struct ncco_ws *n = &c->t->ncco;
	char authz[JWT_MINT_MAX + 16];
	const char *az = NULL;
	uint8_t rnd[16];

	if (util_random(rnd, sizeof rnd))
		return fail(e, c, "getrandom failed");
	wsf_key(rnd, c->key);
	if (n->auth == NCCO_AUTH_VONAGE) {
		memcpy(authz, "Bearer ", 7);
		if (jwt_mint(e->o->secret, e->o->secret_len, e->o->application_id, time(NULL), authz + 7,
			     sizeof authz - 7) < 0)
			return fail(e, c, "cannot mint the JWT (libjwt)");
		az = authz;
	} else if (n->auth == NCCO_AUTH_CUSTOM) {
		az = n->auth_value;
	}
	int len = wsf_request((char *)c->out, sizeof c->out, &c->t->url, c->key, az);
	if (len < 0)
		return fail(e, c, "upgrade request over %d bytes", ENGINE_OUT_CAP);
	c->out_off = 0;
	c->out_len = (uint32_t)len;
	c->state = CALL_UPGRADE;
	if (set_events(e, c, EPOLLIN))
		return -1;
	return flush(e, c);
}

static int tls_step(struct engine *e, struct call *c)
{
	ERR_clear_error();
	int r = SSL_connect(c->ssl);
	if (r == 1)
		return send_upgrade(e, c);
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:  return set_events(e, c, EPOLLIN);
	case SSL_ERROR_WANT_WRITE: return set_events(e, c, EPOLLOUT);
	default: {
		char why[ENGINE_ERR_MAX];
		tls_error(c->ssl, "TLS handshake", why, sizeof why);
		return fail(e, c, "%s", why);
	}
	}
}

static int on_connected(struct engine *e, struct call *c)
{
	if (!c->t->url.tls)
		return send_upgrade(e, c);
	char why[ENGINE_ERR_MAX];
	c->ssl = tls_client_new(e->o->tls, c->fd, c->t->url.host, e->o->insecure, why, sizeof why);
	if (!c->ssl)
		return fail(e, c, "%s", why);
	c->state = CALL_TLS;
	return tls_step(e, c);
}

static int start_call(struct engine *e, struct call *c, uint64_t now)
{
	const struct call_target *t = c->t;
	int one = 1;

	e->active++;
	c->t_start = now;
	c->state = CALL_CONNECTING;
	sched(e, c, now + (uint64_t)e->o->connect_timeout_ms * 1000000ull);
	c->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(e, c, "socket: %s", strerror(errno));
	/* 20 ms frames must leave at once, not wait for the previous one's ACK */
	if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
		return fail(e, c, "TCP_NODELAY: %s", strerror(errno));
	/* RTTs end at the echo's arrival in the kernel, not when the loop reads it */
	if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) < 0)
		return fail(e, c, "SO_TIMESTAMPNS: %s", strerror(errno));
	if (connect(c->fd, (const struct sockaddr *)&t->addr, t->addrlen) == 0)
		return on_connected(e, c);
	if (errno != EINPROGRESS)
		return fail(e, c, "connect to %s:%d: %s", t->url.host, t->url.port, strerror(errno));
	return set_events(e, c, EPOLLOUT);
}

static int on_connect_ready(struct engine *e, struct call *c)
{
	int soerr = 0;
	socklen_t sl = sizeof soerr;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr)
		return fail(e, c, "connect to %s:%d: %s", c->t->url.host, c->t->url.port, strerror(soerr));
	return on_connected(e, c);
}

/* 101 received: say who we are, then start the audio. */
static int on_established(struct engine *e, struct call *c, uint64_t now)
{
	const char *msg = c->t->ncco.connected;

	c->r.setup_us = (uint32_t)((now - c->t_start) / 1000);
	pctl_add(&e->setup, c->r.setup_us);
	e->established++;
	if (!e->first_stream)
		e->first_stream = now;
	if (queue_frame(e, c, WSF_OP_TEXT, msg, strlen(msg)))
		return fail(e, c, "connected message does not fit the output buffer");
	c->state = CALL_STREAM;
	c->dtmf_due = now + (uint64_t)(e->o->duration_s * 5e8);   /* mid-call */
	if (flush(e, c))
		return -1;
	if (e->o->flood) {
		c->stream_end = now + (uint64_t)(e->o->duration_s * 1e9);
		sched(e, c, c->stream_end);
		for (int k = 0; k < e->o->flood; k++)
			if (send_frame(e, c) < 0)
				return -1;
		return 0;
	}
	/* first tick: the next instant on this call's phase of the 20 ms grid */
	uint64_t since = now - e->t0 + ENGINE_PERIOD_NS - c->phase;
	uint64_t first = e->t0 + c->phase + (since / ENGINE_PERIOD_NS) * ENGINE_PERIOD_NS;
	if (first < now)
		first += ENGINE_PERIOD_NS;
	c->grid = first;
	sched(e, c, first);
	return 0;
}

/* ---- input ---------------------------------------------------------------- */

/*
 * What frame seq carried past its stamp, if p matches it: the source, or
 * zeros for a pause frame (either, when the script no longer knows which).
 * NULL when p differs.
 */
static const uint8_t *matching(const struct call *c, uint32_t seq, const uint8_t *p)
{
	uint32_t fb = c->src->frame_bytes;
	int kind = c->pl ? script_kind(&c->pl->sc, seq) : 1;
	const uint8_t *pcm = audio_frame(c->src, seq);

	if (kind != 0 && !memcmp(p + AUDIO_STAMP_BYTES, pcm + AUDIO_STAMP_BYTES, fb - AUDIO_STAMP_BYTES))
		return pcm;
	if (kind != 1 && !memcmp(p + AUDIO_STAMP_BYTES, zeros + AUDIO_STAMP_BYTES, fb - AUDIO_STAMP_BYTES))
		return zeros;
	return NULL;
}

static int on_echo(struct engine *e, struct call *c, const uint8_t *p, size_t len, uint64_t now, uint64_t rx_rt)
{
	uint32_t fb = c->src->frame_bytes, seq = 0, sent_us = 0;
	struct ledger_counts d = {};

	/* Vonage plays whole 20 ms frames only: another size is not queued */
	if (len != fb)
		c->r.bad_frames++;
	else if (c->pl && c->state != CALL_CLOSING)
		(void)playback_push(&c->pl->pb, p);   /* full: counted in pb.overflow */
	int stamp_ok = len == fb && !audio_stamp_read(p, &seq);
	enum ledger_echo what = ledger_echo(&c->led, stamp_ok, seq, &d, &sent_us);
	count(e, c, &d);
	if (what != LEDGER_ANSWERED)
		return 0;
	uint32_t rtt = rtt_clock_us(e, rx_rt) - sent_us;
	if (!matching(c, seq, p)) {
		c->r.mismatched++;
		e->tot_mismatched++;
	}
	pctl_add(&c->r.rtt, rtt);
	pctl_add(&e->rtt, rtt);
	if (rtt > ENGINE_LATE_US)
		c->r.late++;
	if (c->state == CALL_STREAM && e->o->flood) {
		if (maybe_dtmf(e, c, now) || send_frame(e, c) < 0)
			return -1;
	} else if (c->state == CALL_DRAIN && !c->pl && !c->led.outstanding) {
		return start_close(e, c, now);
	}
	return 0;
}

static int on_close_frame(struct engine *e, struct call *c, const uint8_t *p, size_t len)
{
	c->r.close_code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;
	if (c->state == CALL_CLOSING)
		return finish(e, c, 1);   /* our close, answered: the normal end */
	/* the server ended the call: answer its close, then report it */
	char reason[64];
	size_t rl = len > 2 ? len - 2 : 0;
	if (rl >= sizeof reason)
		rl = sizeof reason - 1;
	for (size_t i = 0; i < rl; i++)
		reason[i] = (p[2 + i] >= ' ' && p[2 + i] < 0x7f) ? (char)p[2 + i] : '?';
	reason[rl] = '\0';
	snprintf(c->err, sizeof c->err, "server closed the WebSocket during the %s with %d%s%s",
		 c->state == CALL_DRAIN ? "drain" : "call", c->r.close_code, rl ? ": " : "", reason);
	if (!queue_frame(e, c, WSF_OP_CLOSE, p, len >= 2 ? 2 : 0) && flush(e, c))
		return -1;   /* flush failed the call; c->err already says why it ended */
	return finish(e, c, 0);
}

/* Queue websocket:notify for notify number id. -1 if the call failed. */
static int send_notify(struct engine *e, struct call *c, const char *payload, size_t len, uint32_t id)
{
	char msg[PLAYBACK_PAYLOAD_MAX + 64];
	int n = snprintf(msg, sizeof msg, "{\"event\":\"websocket:notify\",\"payload\":%.*s}", (int)len, payload);

	if (n < 0 || (size_t)n >= sizeof msg)
		return fail(e, c, "websocket:notify does not fit");
	if (queue_frame(e, c, WSF_OP_TEXT, msg, (size_t)n))
		return fail(e, c, "cannot queue websocket:notify: output buffer full");
	c->r.notify_answered++;
	if (c->pl)
		chk_answered(&c->pl->ck, id);
	return 0;
}

/* Answer every notify mark playback has reached, in order, and send. -1 if the call failed. */
static int answer_marks(struct engine *e, struct call *c)
{
	const struct playback_mark *m;

	while (c->pl && (m = playback_due(&c->pl->pb))) {
		if (send_notify(e, c, m->payload, m->len, m->id))
			return -1;
		playback_pop_due(&c->pl->pb);
	}
	return flush(e, c);
}

/*
 * A text message from the server: Vonage's commands (reference A.5).
 * clear: discard what waits to be played, reply websocket:cleared, then
 * answer the marks that were waiting (playback.h says why). notify: a mark
 * behind the queued audio. Anything else is counted, never fatal.
 */
static int on_text(struct engine *e, struct call *c, const char *p, size_t len, uint64_t now)
{
	static const char cleared[] = "{\"event\":\"websocket:cleared\"}";
	char payload[PLAYBACK_PAYLOAD_MAX + 8];   /* + cJSON's spare bytes (playback.cpp) */
	size_t plen = 0;

	switch (playback_command(p, len, payload, sizeof payload, &plen)) {
	case PLAYBACK_CMD_CLEAR:
		c->r.clears++;
		if (c->pl) {
			(void)playback_clear(&c->pl->pb);
			chk_clear(&c->pl->ck, now);
		}
		if (queue_frame(e, c, WSF_OP_TEXT, cleared, sizeof cleared - 1))
			return fail(e, c, "cannot queue websocket:cleared: output buffer full");
		return answer_marks(e, c);
	case PLAYBACK_CMD_NOTIFY:
		c->r.notify_received++;
		if (!c->pl)   /* no playback: every frame counts as played on arrival */
			return send_notify(e, c, payload, plen, (uint32_t)(c->r.notify_received - 1)) ? -1 : flush(e, c);
		if (playback_notify(&c->pl->pb, payload, plen)) {
			c->r.bad_commands++;   /* too many marks waiting, or a payload too big to keep */
			return 0;
		}
		return answer_marks(e, c);
	default:
		c->r.bad_commands++;
		return 0;
	}
}

/* A complete message (unfragmented frame or reassembled). -1 if the call ended. */
static int on_message(struct engine *e, struct call *c, int op, const uint8_t *p, size_t len, uint64_t now,
		      uint64_t rx_rt)
{
	if (op == WSF_OP_BINARY)
		return on_echo(e, c, p, len, now, rx_rt);
	if (c->state == CALL_CLOSING)
		return 0;   /* our close is out: nothing more is played or answered */
	return on_text(e, c, (const char *)p, len, now);
}

static int on_frame(struct engine *e, struct call *c, const struct wsf_hdr *h, const uint8_t *p, uint64_t now,
		    uint64_t rx_rt)
{
	size_t len = (size_t)h->len;

	switch (h->opcode) {
	case WSF_OP_BINARY:
	case WSF_OP_TEXT:
		if (c->msg_op >= 0)
			return fail(e, c, "protocol error: new message inside a fragmented one");
		if (h->fin)
			return on_message(e, c, h->opcode, p, len, now, rx_rt);
		c->msg_op = h->opcode;
		c->msg_len = 0;
		[[fallthrough]];   /* the first fragment is appended like the rest */
	case WSF_OP_CONT:
		if (c->msg_op < 0)
			return fail(e, c, "protocol error: continuation without a message");
		if (len > ENGINE_MSG_CAP - c->msg_len)
			return fail(e, c, "server message over %d bytes", ENGINE_MSG_CAP);
		memcpy(c->msg + c->msg_len, p, len);
		c->msg_len += (uint32_t)len;
		if (!h->fin || h->opcode != WSF_OP_CONT)
			return 0;
		{
			int op = c->msg_op;
			c->msg_op = -1;
			return on_message(e, c, op, c->msg, c->msg_len, now, rx_rt);
		}
	case WSF_OP_CLOSE:
		return on_close_frame(e, c, p, len);
	case WSF_OP_PING:
		if (queue_frame(e, c, WSF_OP_PONG, p, len))
			return fail(e, c, "cannot queue a pong: output buffer full");
		return flush(e, c);
	default:   /* pong */
		return 0;
	}
}

/*
 * Handle everything complete in c->in; now is monotonic (scheduling), rx_rt
 * the realtime arrival of the bytes (RTT). Returns 0, or -1 if the call ended.
 */
static int parse_input(struct engine *e, struct call *c, uint64_t now, uint64_t rx_rt)
{
	size_t pos = 0;

	if (c->state == CALL_UPGRADE) {
		int status;
		char why[ENGINE_ERR_MAX];
		int n = wsf_response((const char *)c->in, c->in_len, c->key, &status, why, sizeof why);
		if (n == 0)
			return 0;
		if (n < 0)
			return fail(e, c, "%s", why);
		pos = (size_t)n;
		if (on_established(e, c, now))
			return -1;
	}
	while (pos < c->in_len) {
		struct wsf_hdr h;
		int hl = wsf_parse_header(c->in + pos, c->in_len - pos, &h);
		if (hl < 0)
			return fail(e, c, "protocol error: invalid frame header from the server");
		if (hl == 0)
			break;
		if (h.len > ENGINE_IN_CAP - (uint64_t)hl)
			return fail(e, c, "server frame of %llu bytes is over %d", (unsigned long long)h.len, ENGINE_IN_CAP);
		if (c->in_len - pos < (size_t)hl + h.len)
			break;
		uint8_t *p = c->in + pos + hl;
		if (h.masked)   /* servers must not mask; tolerate it */
			wsf_mask_copy(p, p, (size_t)h.len, h.mask, 0);
		pos += (size_t)hl + (size_t)h.len;
		if (on_frame(e, c, &h, p, now, rx_rt))
			return -1;
	}
	if (pos) {
		memmove(c->in, c->in + pos, c->in_len - pos);
		c->in_len -= (uint32_t)pos;
	}
	return 0;
}

static int on_eof(struct engine *e, struct call *c, const char *why)
{
	if (c->state == CALL_CLOSING)
		return finish(e, c, 1);   /* a server may close TCP right after its close frame */
	return fail(e, c, "server closed the connection during the %s%s%s",
		    c->state == CALL_UPGRADE ? "handshake" : engine_state_str(c->state), why ? ": " : "",
		    why ? why : "");
}

/*
 * recv() that also returns the kernel's receive timestamp of the newest
 * bytes read (0 when the kernel gave none, e.g. before timestamping was on).
 */
static ssize_t recv_stamped(int fd, uint8_t *buf, size_t cap, uint64_t *rx_rt)
{
	union { char buf[CMSG_SPACE(sizeof(struct timespec))]; struct cmsghdr align; } ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh;

	memset(&mh, 0, sizeof mh);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof ctl.buf;
	ssize_t n = recvmsg(fd, &mh, 0);
	if (n <= 0)
		return n;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(cm), sizeof ts);
			*rx_rt = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		}
	}
	return n;
}

static int do_read(struct engine *e, struct call *c)
{
	for (;;) {
		size_t space = ENGINE_IN_CAP - c->in_len;
		if (!space)
			return fail(e, c, "input buffer full without a whole frame");
		if (c->ssl) {
			ERR_clear_error();
			int n = SSL_read(c->ssl, c->in + c->in_len, (int)space);
			if (n <= 0) {
				int se = SSL_get_error(c->ssl, n);
				if (se == SSL_ERROR_WANT_READ)
					return 0;
				if (se == SSL_ERROR_WANT_WRITE)
					return set_events(e, c, EPOLLIN | EPOLLOUT);
				if (se == SSL_ERROR_ZERO_RETURN || (se == SSL_ERROR_SYSCALL && !ERR_peek_error()))
					return on_eof(e, c, NULL);
				char why[ENGINE_ERR_MAX];
				tls_error(c->ssl, "TLS read", why, sizeof why);
				return fail(e, c, "%s", why);
			}
			c->in_len += (uint32_t)n;
			if (parse_input(e, c, util_now_ns(), util_realtime_ns()))
				return -1;
			continue;   /* OpenSSL may hold more decrypted bytes than epoll knows of */
		}
		uint64_t rx_rt = 0;
		ssize_t n = recv_stamped(c->fd, c->in + c->in_len, space, &rx_rt);
		if (n > 0) {
			c->in_len += (uint32_t)n;
			if (parse_input(e, c, util_now_ns(), rx_rt ? rx_rt : util_realtime_ns()))
				return -1;
			if ((size_t)n < space)
				return 0;   /* drained; level-triggered epoll reports anything newer */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return on_eof(e, c, n < 0 ? strerror(errno) : NULL);
	}
}

static void on_io(struct engine *e, struct call *c, uint32_t events)
{
	switch (c->state) {
	case CALL_CONNECTING:
		(void)on_connect_ready(e, c);
		return;
	case CALL_TLS:
		(void)tls_step(e, c);
		return;
	case CALL_UPGRADE:
	case CALL_STREAM:
	case CALL_DRAIN:
	case CALL_CLOSING:
		if ((events & EPOLLOUT) && flush(e, c))
			return;
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			(void)do_read(e, c);
		return;
	default:
		return;   /* an event for a call that ended earlier in this batch */
	}
}

/* ---- timers --------------------------------------------------------------- */

/*
 * One playout tick (playback on): the frame heard now, or silence, goes
 * to the recording, the scripted caller and the checker; marks playback
 * has reached are answered. -1 if the call failed.
 */
static int play_tick(struct engine *e, struct call *c, uint64_t now)
{
	struct call_play *pl = c->pl;
	uint32_t fb = c->src->frame_bytes, seq = 0;
	const uint8_t *f = NULL, *sent = NULL;
	int stamped = 0;

	chk_tick(&pl->ck, now);
	if (playback_tick(&pl->pb, &f)) {
		stamped = !audio_stamp_read(f, &seq) && seq < c->led.next_seq;
		if (stamped)
			sent = matching(c, seq, f);
		else
			c->r.heard_other++;
		chk_heard(&pl->ck, pl->tick, stamped, seq, sent != NULL);
	}
	script_heard(&pl->sc, stamped && audio_voiced(f, fb), pl->tick);
	if (e->o->record && c->idx == 0) {
		if (!f) {
			wav_writer_write(e->o->record, zeros, fb);
		} else {
			/* put the sent bytes back under the stamp of a frame that matched (audio.h) */
			wav_writer_write(e->o->record, sent ? sent : f, AUDIO_STAMP_BYTES);
			wav_writer_write(e->o->record, f + AUDIO_STAMP_BYTES, fb - AUDIO_STAMP_BYTES);
		}
	}
	return answer_marks(e, c);
}

/* Playback on, in the drain: is there nothing more to hear? */
static int drained(const struct engine *e, const struct call *c)
{
	if (!playback_idle(&c->pl->pb))
		return 0;
	if (e->o->expect == CHK_ECHO)
		return !c->led.outstanding;
	return chk_done(&c->pl->ck);
}

static void on_deadline(struct engine *e, struct call *c, uint64_t now)
{
	switch (c->state) {
	case CALL_CONNECTING:
	case CALL_TLS:
	case CALL_UPGRADE:
		(void)fail(e, c, "no WebSocket after %d ms (stuck in %s)", e->o->connect_timeout_ms,
			   engine_state_str(c->state));
		return;
	case CALL_STREAM:
		if (e->o->flood || e->stopping) {
			(void)enter_drain(e, c, now);
			return;
		}
		/* lag: how late this tick's frame leaves compared with its slot */
		pctl_add(&e->lag, (uint32_t)((now - c->due) / 1000));
		/* the caller hears first, then speaks: what it heard may start a barge-in now */
		if (c->pl && play_tick(e, c, now))
			return;
		if (impaired_send(e, c) < 0 || maybe_dtmf(e, c, now))
			return;
		if (c->pl)
			c->pl->tick++;
		if (++c->ticks >= c->total) {
			(void)enter_drain(e, c, now);
			return;
		}
		/* fixed grid: a late tick does not shift the next; --jitter delays each frame off it */
		c->grid += ENGINE_PERIOD_NS;
		sched(e, c, c->grid + (e->o->jitter_ms ? rng32(e) % (e->o->jitter_ms * 1000000u + 1) : 0));
		return;
	case CALL_DRAIN:
		if (c->pl) {
			if (play_tick(e, c, now))
				return;
			c->pl->tick++;
			if (drained(e, c) || now >= c->pl->drain_end)
				(void)start_close(e, c, now);
			else
				sched(e, c, next_tick(e, c, now));
			return;
		}
		(void)start_close(e, c, now);   /* frames still out are counted lost at finish */
		return;
	case CALL_CLOSING:
		(void)finish(e, c, 1);   /* no close reply in time: the audio checks are what count */
		return;
	default:
		unsched(e, c);
		return;
	}
}

static void run_deadlines(struct engine *e)
{
	uint64_t now = util_now_ns();

	while (e->heap_n && e->heap[0]->due <= now) {
		on_deadline(e, e->heap[0], now);
		now = util_now_ns();
	}
}

static uint64_t start_time(const struct engine *e, int i)
{
	if (e->o->ramp <= 0)
		return e->t0;
	return e->t0 + (uint64_t)((double)i * 1e9 / e->o->ramp);
}

static void start_due(struct engine *e)
{
	uint64_t now = util_now_ns();

	while (e->next_start < e->n && start_time(e, e->next_start) <= now) {
		(void)start_call(e, &e->calls[e->next_start++], now);
		now = util_now_ns();
	}
}

/* Ctrl-C: no new calls; streams end now and drain as usual. */
static void begin_stop(struct engine *e)
{
	uint64_t now = util_now_ns();

	e->stopping = 1;
	for (; e->next_start < e->n; e->next_start++)
		e->calls[e->next_start].state = CALL_SKIPPED;
	for (int i = 0; i < e->n; i++)
		if (e->calls[i].state == CALL_STREAM)
			sched(e, &e->calls[i], now);
}

static void progress(struct engine *e, uint64_t now)
{
	struct rusage ru;
	double wall = (double)(now - e->t0) / 1e9, cpu = 0;

	if (!getrusage(RUSAGE_SELF, &ru) && wall > 0)
		cpu = ((double)(ru.ru_utime.tv_sec - e->ru0.ru_utime.tv_sec + ru.ru_stime.tv_sec - e->ru0.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec - e->ru0.ru_utime.tv_usec + ru.ru_stime.tv_usec - e->ru0.ru_stime.tv_usec) / 1e6) /
		      wall * 100.0;
	printf("\r%6.1f s  calls %d/%d up  sent %llu  echoed %llu  lost %llu  mismatched %llu  rtt p99 %.2f ms  "
	       "lag p99 %.2f ms  cpu %.0f%%  ",
	       wall, e->active, e->n, (unsigned long long)e->tot_sent, (unsigned long long)e->tot_echoed,
	       (unsigned long long)e->tot_lost, (unsigned long long)e->tot_mismatched,
	       pctl_value(&e->rtt, 99) / 1000.0, pctl_value(&e->lag, 99) / 1000.0, cpu);
	fflush(stdout);
}

/*
 * Keep at least batch_us between two wakeups (engine.h, "Timing"): ticks
 * and echoes that fall due meanwhile are handled together afterwards.
 */
static void batch_pause(const struct engine *e)
{
	uint64_t next = e->last_wake + (uint64_t)e->o->batch_us * 1000ull;

	if (!e->o->batch_us || util_now_ns() >= next)
		return;
	struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
	/* EINTR (a signal) just ends the pause early */
	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* Sleep in epoll until the next deadline (ns resolution). */
static int wait_events(struct engine *e, struct epoll_event *evs, uint64_t until)
{
	uint64_t now = util_now_ns();
	uint64_t d = until > now ? until - now : 0;
	struct timespec ts = { (time_t)(d / 1000000000ull), (long)(d % 1000000000ull) };
	static int no_pwait2;

	if (!no_pwait2) {
		int n = epoll_pwait2(e->epfd, evs, EVENTS_MAX, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		no_pwait2 = 1;   /* kernel older than 5.11 */
	}
	return epoll_wait(e->epfd, evs, EVENTS_MAX, (int)((d + 999999) / 1000000));
}

/* ---- public --------------------------------------------------------------- */

int engine_init(struct engine *e, const struct engine_opts *o, const struct call_target *targets, int n,
		char *err, size_t errlen)
{
	memset(e, 0, sizeof *e);
	e->o = o;
	e->targets = targets;
	e->n = n;
	e->epfd = -1;
	e->calls = (struct call *)calloc((size_t)n, sizeof *e->calls);
	e->heap = (struct call **)calloc((size_t)n, sizeof *e->heap);
	if (!e->calls || !e->heap) {
		snprintf(err, errlen, "out of memory for %d calls (%zu bytes each)", n, sizeof(struct call));
		engine_free(e);
		return -1;
	}
	for (int i = 0; i < n; i++)
		e->calls[i].fd = -1;   /* engine_free on a failure below must not close fd 0 */
	for (int i = 0; i < n; i++) {
		struct call *c = &e->calls[i];
		int r = targets[i].ncco.rate;
		c->t = &targets[i];
		c->src = o->src[r == 8000 ? 0 : r == 16000 ? 1 : 2];
		if (!c->src) {
			snprintf(err, errlen, "no audio source for call %d's rate %d", i + 1, r);
			engine_free(e);
			return -1;
		}
		c->idx = i;
		c->fd = -1;
		c->heap_pos = -1;
		c->msg_op = -1;
		c->phase = (uint64_t)i * ENGINE_PERIOD_NS / (uint64_t)n;
		c->total = (uint32_t)(o->duration_s * 1000.0 / AUDIO_FRAME_MS + 0.5);
		if (!c->total)
			c->total = 1;
		pctl_init(&c->r.rtt);
		if (o->playback_cap) {
			c->pl = (struct call_play *)calloc(1, sizeof *c->pl);
			if (!c->pl || playback_init(&c->pl->pb, o->playback_cap, c->src->frame_bytes)) {
				snprintf(err, errlen, "out of memory for call %d's playback buffer (%u frames of %u bytes)",
					 i + 1, o->playback_cap, c->src->frame_bytes);
				engine_free(e);
				return -1;
			}
			script_init(&c->pl->sc, o->talk_ms, o->pause_ms, o->barge_in, o->barge_ms);
			chk_init(&c->pl->ck, o->expect, o->delay_ms, c->pl->sc.pause);
		}
	}
	pctl_init(&e->lag);
	pctl_init(&e->rtt);
	pctl_init(&e->setup);
	if (util_random(&e->rng, sizeof e->rng) || !e->rng)
		e->rng = 0x9E3779B97F4A7C15ull;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0) {
		snprintf(err, errlen, "epoll_create1: %s", strerror(errno));
		engine_free(e);
		return -1;
	}
	return 0;
}

int engine_run(struct engine *e, volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	static struct epoll_event evs[EVENTS_MAX];

	e->t0 = util_now_ns();
	e->rt0 = util_realtime_ns();
	e->next_progress = e->t0 + 1000000000ull;
	if (getrusage(RUSAGE_SELF, &e->ru0)) {
		snprintf(err, errlen, "getrusage: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (*stop && !e->stopping)
			begin_stop(e);
		start_due(e);
		run_deadlines(e);
		if (e->next_start >= e->n && !e->active)
			break;
		uint64_t now = util_now_ns();
		if (e->o->progress && now >= e->next_progress) {
			progress(e, now);
			e->next_progress += 1000000000ull;
		}
		uint64_t until = e->o->progress ? e->next_progress : now + 1000000000ull;
		if (e->heap_n && e->heap[0]->due < until)
			until = e->heap[0]->due;
		if (e->next_start < e->n && start_time(e, e->next_start) < until)
			until = start_time(e, e->next_start);
		batch_pause(e);
		int n = wait_events(e, evs, until);
		e->last_wake = util_now_ns();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			on_io(e, (struct call *)evs[i].data.ptr, evs[i].events);
			/* a big batch of echoes must not hold back the next ticks */
			if ((i & 63) == 63)
				run_deadlines(e);
		}
	}
	e->t_end = util_now_ns();
	if (getrusage(RUSAGE_SELF, &e->ru1)) {
		snprintf(err, errlen, "getrusage: %s", strerror(errno));
		return -1;
	}
	if (e->o->progress)
		printf("\r\033[K");
	return 0;
}

void engine_free(struct engine *e)
{
	if (e->calls) {
		for (int i = 0; i < e->n; i++) {
			if (e->calls[i].ssl)
				SSL_free(e->calls[i].ssl);
			if (e->calls[i].fd >= 0)
				close(e->calls[i].fd);
			if (e->calls[i].pl) {
				playback_deinit(&e->calls[i].pl->pb);
				free(e->calls[i].pl);
			}
		}
	}
	if (e->epfd >= 0)
		close(e->epfd);
	free(e->calls);
	free(e->heap);
	e->calls = NULL;
	e->heap = NULL;
	e->epfd = -1;
}
