/*
 * check.cpp -- the delay and parrot verdicts; see check.h.
 */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void fault(struct check *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(struct check *k, const char *fmt, ...)
{
	if (!k->faults++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(k->why, sizeof k->why, fmt, ap);
		va_end(ap);
	}
}

void chk_init(struct check *k, enum chk_app app, uint32_t delay_ms, uint32_t pause_ticks)
{
	memset(k, 0, sizeof *k);
	k->app = app;
	k->delay_ms = delay_ms;
	k->pause_ticks = pause_ticks;
}

/* ---- delay ----------------------------------------------------------------- */

static void missed(struct check *k, uint32_t seq)
{
	if (!k->missing++)
		k->first_missing = seq;
}

static void delay_sent(struct check *k, uint32_t seq, uint32_t tick)
{
	auto *e = &k->sent[seq % CHK_WIN];

	/* a frame CHK_WIN frames old is far past MS + CHK_SLACK_MS: unheard means missing */
	if (e->seq1 && !e->heard) {
		missed(k, e->seq1 - 1);
		k->unheard--;
	}
	k->unheard++;
	e->seq1 = seq + 1;
	e->tick = tick;
	e->heard = 0;
}

static void delay_heard(struct check *k, uint32_t tick, uint32_t seq, int bytes_ok)
{
	auto *e = &k->sent[seq % CHK_WIN];

	if (e->seq1 != seq + 1) {
		fault(k, "heard frame %u, which was never sent (or over %u frames ago)", seq, CHK_WIN);
		return;
	}
	if (e->heard++) {
		fault(k, "frame %u heard twice", seq);
		return;
	}
	k->unheard--;
	uint64_t lag = (uint64_t)(tick - e->tick) * 20;
	if (lag + 20 <= k->delay_ms || lag > (uint64_t)k->delay_ms + 40)
		fault(k, "frame %u heard %llu ms after it was sent; delay=%u allows %d < ms <= %u", seq,
		      (unsigned long long)lag, k->delay_ms, (int)k->delay_ms - 20, k->delay_ms + 40);
	if (!bytes_ok)
		fault(k, "frame %u came back with different bytes", seq);
}

static void delay_finish(struct check *k)
{
	for (uint32_t i = 0; i < CHK_WIN; i++) {
		auto *e = &k->sent[i];
		if (e->seq1 && !e->heard && (uint64_t)(k->last_tick - e->tick) * 20 > (uint64_t)k->delay_ms + CHK_SLACK_MS)
			missed(k, e->seq1 - 1);
	}
	if (k->missing)
		fault(k, "%llu frames sent over %u ms before the end never heard (first: frame %u)",
		      (unsigned long long)k->missing, k->delay_ms + CHK_SLACK_MS, k->first_missing);
}

/* ---- parrot ---------------------------------------------------------------- */

static struct chk_burst *newest(struct check *k)
{
	return k->nburst ? &k->burst[(k->nburst - 1) % CHK_BURSTS] : NULL;
}

static int completed(const struct check *k, const struct chk_burst *b)
{
	return b->ended && (b->pause_after >= k->pause_ticks || b->no < k->nburst);
}

static int partial(const struct chk_burst *b)
{
	return !b->interrupted && b->next > b->first && b->next <= b->last;
}

static void resolve(struct check *k, struct chk_burst *b)
{
	if (b->resolved || !completed(k, b))
		return;
	b->resolved = 1;
	if (!b->interrupted && b->next <= b->last)
		fault(k, "talk burst %u (frames %u-%u): %u of %u frames heard back", b->no, b->first, b->last,
		      b->next - b->first, b->last - b->first + 1);
}

static void parrot_sent(struct check *k, uint32_t seq, uint32_t tick, unsigned flags, uint64_t ns)
{
	struct chk_burst *b = newest(k);

	if (!(flags & CHK_SENT_TALK)) {
		if (b && !b->ended) {
			b->ended = 1;
			b->end_tick = tick;
		}
		if (b)
			b->pause_after++;
		return;
	}
	if (b && !b->ended && seq == b->last + 1) {
		b->last = seq;
		return;
	}
	if (flags & CHK_SENT_BARGE) {
		/* interrupting only means something while a playback is under way */
		for (uint32_t i = 0; i < CHK_BURSTS && i < k->nburst; i++) {
			if (partial(&k->burst[i])) {
				k->barge_wait = 1;
				k->barge_ns = ns;
				k->barge_no = k->nburst + 1;
				break;
			}
		}
	}
	b = &k->burst[k->nburst % CHK_BURSTS];
	if (k->nburst >= CHK_BURSTS)
		resolve(k, b);   /* the oldest leaves the window: judge it now */
	memset(b, 0, sizeof *b);
	b->no = ++k->nburst;
	b->first = b->last = b->next = seq;
}

static void parrot_heard(struct check *k, uint32_t tick, uint32_t seq)
{
	struct chk_burst *b = NULL;

	for (uint32_t i = 0; i < CHK_BURSTS && i < k->nburst; i++) {
		struct chk_burst *c = &k->burst[(k->nburst - 1 - i) % CHK_BURSTS];
		if (seq >= c->first && seq <= c->last) {
			b = c;
			break;
		}
	}
	if (!b)
		return;   /* a pause frame: the silence around an utterance may be played back */
	if (b->interrupted) {
		fault(k, "talk burst %u: frame %u heard after the clear that interrupted its playback", b->no, seq);
		return;
	}
	if (!b->ended || tick < b->end_tick) {
		fault(k, "talk burst %u: frame %u heard while the caller was still talking", b->no, seq);
		return;
	}
	if (seq != b->next)
		fault(k, "talk burst %u: frame %u heard where frame %u was due (out of order or skipped)", b->no, seq,
		      b->next);
	b->next = seq + 1;
}

/* ---- both ------------------------------------------------------------------ */

void chk_sent(struct check *k, uint32_t seq, uint32_t tick, unsigned flags, uint64_t ns)
{
	k->last_tick = tick;
	if (k->app == CHK_DELAY)
		delay_sent(k, seq, tick);
	else if (k->app == CHK_PARROT)
		parrot_sent(k, seq, tick, flags, ns);
}

void chk_heard(struct check *k, uint32_t tick, int stamped, uint32_t seq, int bytes_ok)
{
	if (k->app == CHK_ECHO || !stamped)
		return;   /* non-stamped audio (beeps, the delay line's silence) is allowed */
	if (k->app == CHK_DELAY) {
		delay_heard(k, tick, seq, bytes_ok);
		return;
	}
	if (!bytes_ok)
		fault(k, "frame %u came back with different bytes", seq);
	parrot_heard(k, tick, seq);
}

void chk_tick(struct check *k, uint64_t ns)
{
	if (k->barge_wait && ns - k->barge_ns > CHK_CLEAR_NS) {
		fault(k, "no clear within %llu ms of barge-in burst %u", CHK_CLEAR_NS / 1000000, k->barge_no);
		k->barge_wait = 0;
	}
}

void chk_clear(struct check *k, uint64_t ns)
{
	if (k->app != CHK_PARROT)
		return;
	for (uint32_t i = 0; i < CHK_BURSTS && i < k->nburst; i++)
		if (partial(&k->burst[i]))
			k->burst[i].interrupted = 1;
	if (k->barge_wait) {
		if (ns - k->barge_ns > CHK_CLEAR_NS)
			fault(k, "clear came %.1f ms after barge-in burst %u began (limit %llu)",
			      (double)(ns - k->barge_ns) / 1e6, k->barge_no, CHK_CLEAR_NS / 1000000);
		k->barge_wait = 0;
	}
}

void chk_answered(struct check *k, uint32_t id)
{
	if (k->app != CHK_ECHO && id != k->next_answer)
		fault(k, "notify %u answered before notify %u", id, k->next_answer);
	k->next_answer = id + 1;
}

int chk_done(const struct check *k)
{
	if (k->app == CHK_DELAY) {
		return !k->unheard;   /* everything back, the last frames too (a delay line that flushes) */
	}
	if (k->app == CHK_PARROT) {
		if (k->barge_wait)
			return 0;
		for (uint32_t i = 0; i < CHK_BURSTS && i < k->nburst; i++) {
			const struct chk_burst *b = &k->burst[i];
			if (completed(k, b) && !b->interrupted && b->next <= b->last)
				return 0;
		}
	}
	return 1;
}

void chk_finish(struct check *k, uint64_t notify_received, uint64_t notify_answered, uint64_t bad_commands,
		uint64_t bad_frames)
{
	if (k->app == CHK_ECHO)
		return;
	if (k->app == CHK_DELAY)
		delay_finish(k);
	if (k->app == CHK_PARROT)
		for (uint32_t i = 0; i < CHK_BURSTS && i < k->nburst; i++)
			resolve(k, &k->burst[i]);
	if (k->barge_wait)
		fault(k, "no clear after barge-in burst %u before the call ended", k->barge_no);
	if (notify_answered < notify_received)
		fault(k, "%llu of %llu notify commands never answered", (unsigned long long)(notify_received - notify_answered),
		      (unsigned long long)notify_received);
	if (bad_commands)
		fault(k, "%llu unknown or malformed commands from the server", (unsigned long long)bad_commands);
	if (bad_frames)
		fault(k, "%llu binary frames of the wrong size from the server", (unsigned long long)bad_frames);
	if (k->faults > 1) {
		size_t n = strlen(k->why);
		snprintf(k->why + n, sizeof k->why - n, " (+%llu more)", (unsigned long long)(k->faults - 1));
	}
}
