/*
 * voice.cpp -- the seam between the audio transport and a voice app; see
 * voice.h for the flow (the transport's side) and voice_app.h (the app's:
 * the accessors below are all an app sees of its call). This file keeps
 * the app's promises for it: a frame the app neither echoed nor dropped is
 * consumed (its slot reused), the app's state is zeroed and its heap
 * block allocated before open() and freed after close(), commands keep
 * their order among the audio, and a DTMF switch clears what the old app
 * left queued.
 */
#include "voice.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static uint32_t frame_bytes_at(int rate)
{
	return (uint32_t)(rate / 50 * 2);
}

void voice_init(struct voice_call *c, struct ring *ring, const struct voice_transport *tp, void *tp_arg,
		const struct voice_opts *o, const struct voice_app *app, const struct voice_app *const *apps,
		int napps, uint64_t id)
{
	memset(c, 0, sizeof *c);
	c->ring = ring;
	c->tp = tp;
	c->tp_arg = tp_arg;
	c->opts = o;
	c->app = app;
	c->apps = apps;
	c->napps = napps;
	c->id = id;
	c->info.rate = o->default_rate;
	c->info.frame_bytes = frame_bytes_at(o->default_rate);
	c->info.connected = "";
}

static void kick(struct voice_call *c)
{
	c->tp->kick(c->tp_arg);
}

static size_t heap_wanted(const struct voice_call *c, const struct voice_app *a)
{
	return a->heap_bytes ? a->heap_bytes(c) : 0;
}

/* 1 when a heap block of want bytes fits the process's budget now. */
static int heap_fits(const struct voice_call *c, size_t want)
{
	const struct voice_opts *o = c->opts;

	return !want || !o->heap_in_use || *o->heap_in_use + want <= o->heap_max;
}

int voice_log_ok(struct voice_call *c, int lvl)
{
	struct voice_log *l = &c->log;
	uint32_t now = (uint32_t)(c->now_us / 1000000u);

	if (lvl > (int)log_threshold)
		return 0;
	if (now - l->window_s >= VOICE_LOG_WINDOW_S) {
		/* a new window; say what the last one left out, once */
		if (l->tries > VOICE_LOG_BURST) {
			uint32_t lost = l->tries - VOICE_LOG_BURST;
			const struct log_field lf[] = { LOG_NUM("call", c->id), LOG_NUM("suppressed", lost) };
			LOG_FIELDS((enum log_level)lvl, "call_log_suppressed", lf,
				   "call %llu: %u more line(s) about this call were not logged (at most %d per %d s "
				   "per call; %u in all)", (unsigned long long)c->id, lost, VOICE_LOG_BURST,
				   VOICE_LOG_WINDOW_S, c->log_suppressed);
		}
		l->window_s = now;
		l->tries = 0;
	}
	if (l->tries < UINT32_MAX)
		l->tries++;
	if (l->tries <= VOICE_LOG_BURST)
		return 1;
	c->log_suppressed++;
	if (c->opts->log_suppressed)
		(*c->opts->log_suppressed)++;
	return 0;
}

static void log_no_room(struct voice_call *c, const struct voice_app *a, size_t want, const char *what)
{
	const struct voice_opts *o = c->opts;

	c->n.refused++;
	if (!voice_log_ok(c, LOG_WARN))
		return;
	log_warn("call %llu: the %s app needs %zu KiB and --app-memory-max has %llu of %llu KiB left: %s",
		 (unsigned long long)c->id, a->name, want / 1024,
		 (unsigned long long)((o->heap_max - *o->heap_in_use) / 1024), (unsigned long long)(o->heap_max / 1024),
		 what);
}

/* Zero the state, allocate the heap block, run open(). 0, or -1 (hung up). */
static int open_app(struct voice_call *c)
{
	const struct voice_app *a = c->app;
	size_t want = heap_wanted(c, a);

	memset(c->state, 0, sizeof c->state);
	c->opened = 1;
	if (a->state_bytes > sizeof c->state) {
		/* a fork's app outgrew the fixed area: say so rather than overrun it */
		log_err("call %llu: app %s wants %zu bytes of state, more than VOICE_STATE_MAX (%zu)",
			(unsigned long long)c->id, a->name, a->state_bytes, sizeof c->state);
		voice_hangup(c, 1011, "voice app misconfigured");
		return -1;
	}
	if (!heap_fits(c, want)) {
		log_no_room(c, a, want, "hanging up 1013 (try again later)");
		voice_hangup(c, 1013, "no memory for the voice app now");
		return -1;
	}
	if (want) {
		c->heap = (uint8_t *)calloc(1, want);
		if (!c->heap) {
			log_err("call %llu: app %s: no memory for its %zu-byte buffer", (unsigned long long)c->id,
				a->name, want);
			voice_hangup(c, 1011, "out of memory");
			return -1;
		}
		c->heap_len = want;
		if (c->opts->heap_in_use)
			*c->opts->heap_in_use += want;
	}
	c->tp->ticking(c->tp_arg, a->tick != NULL);
	if (a->open && a->open(c, c->state)) {
		voice_hangup(c, 1011, "the voice app could not start");
		return -1;
	}
	return 0;
}

static void close_app(struct voice_call *c)
{
	if (!c->opened)
		return;
	if (c->app->close)
		c->app->close(c, c->state);
	c->opened = 0;
	if (c->heap && c->opts->heap_in_use)
		*c->opts->heap_in_use -= c->heap_len;
	free(c->heap);
	c->heap = NULL;
	c->heap_len = 0;
}

void voice_frame(struct voice_call *c)
{
	struct ring *r = c->ring;

	if (!c->opened && !c->hung_up && open_app(c))
		c->hung_up = 1;
	if (c->hung_up) {
		ring_rx_reset(r);
		return;
	}
	c->in_frame = 1;
	c->decided = 0;
	c->app->frame(c, c->state, ring_rx_data(r), ring_rx_len(r));
	c->in_frame = 0;
	if (!c->decided)
		ring_rx_reset(r);   /* consumed: the slot takes the next message */
}

static void deliver(struct voice_call *c, const struct voice_event *ev)
{
	if (c->opened && c->app->event)
		c->app->event(c, c->state, ev);
}

void voice_event_in(struct voice_call *c, const struct ws_event *ev, const char *raw, size_t raw_len)
{
	struct voice_event e;

	memset(&e, 0, sizeof e);
	e.name = ev->name;
	e.payload = "";
	switch (ev->type) {
	case WS_EV_CONNECTED:
		memcpy(c->info.uuid, ev->uuid, sizeof c->info.uuid);
		memcpy(c->info.from, ev->from, sizeof c->info.from);
		memcpy(c->info.to, ev->to, sizeof c->info.to);
		if (ev->rate) {
			c->info.rate = ev->rate;
			c->info.frame_bytes = frame_bytes_at(ev->rate);
		}
		c->info.connected = raw;
		c->info.connected_len = raw_len;
		if (!c->opened && !c->hung_up) {
			if (open_app(c))
				c->hung_up = 1;
		} else {
			e.type = VOICE_EV_CONNECTED;
			deliver(c, &e);
		}
		c->info.connected = "";
		c->info.connected_len = 0;
		return;
	case WS_EV_DTMF:
		if (c->opts->dtmf_switch && ev->digit >= '1' && ev->digit < '1' + c->napps) {
			voice_switch(c, c->apps[ev->digit - '1']);
			return;
		}
		e.type = VOICE_EV_DTMF;
		e.digit = ev->digit;
		break;
	case WS_EV_CLEARED:
		c->n.cleared++;
		e.type = VOICE_EV_CLEARED;
		break;
	case WS_EV_NOTIFY:
		c->n.notified++;
		e.type = VOICE_EV_NOTIFY;
		e.payload = ev->payload;
		break;
	case WS_EV_UNKNOWN:
		e.type = VOICE_EV_OTHER;
		break;
	case WS_EV_INVALID:
	default:
		return;   /* the transport has counted and logged it */
	}
	deliver(c, &e);
}

void voice_tick(struct voice_call *c)
{
	if (c->opened && c->app->tick)
		c->app->tick(c, c->state);
}

void voice_close(struct voice_call *c)
{
	close_app(c);
}

/* ---- what an app may know -------------------------------------------------- */

const struct voice_info *voice_call_info(const struct voice_call *c)
{
	return &c->info;
}

uint64_t voice_call_id(const struct voice_call *c)
{
	return c->id;
}

uint64_t voice_now_us(const struct voice_call *c)
{
	return c->now_us;
}

uint32_t voice_slot_bytes(const struct voice_call *c)
{
	return c->opts->slot_bytes;
}

uint8_t *voice_heap(struct voice_call *c)
{
	return c->heap;
}

size_t voice_heap_len(const struct voice_call *c)
{
	return c->heap_len;
}

uint64_t voice_frame_us(const struct voice_call *c, uint32_t len)
{
	return (uint64_t)len * 1000000u / ((uint64_t)c->info.rate * 2u);
}

/* ---- what an app may do ------------------------------------------------------ */

int voice_echo(struct voice_call *c)
{
	if (!c->in_frame || c->decided)
		return -1;
	c->decided = 1;
	ring_rx_commit(c->ring);
	kick(c);
	return 0;
}

uint8_t *voice_frame_data(struct voice_call *c)
{
	/* the receive slot's payload; ring_rx_data hands it out read-only to
	 * everyone else */
	return c->in_frame && !c->decided ? (uint8_t *)ring_rx_data(c->ring) : NULL;
}

void voice_drop(struct voice_call *c)
{
	if (!c->in_frame || c->decided)
		return;
	c->decided = 1;
	c->ring->dropped++;
	ring_rx_reset(c->ring);
}

void voice_count_drop(struct voice_call *c)
{
	c->ring->dropped++;
}

int voice_trim_oldest(struct voice_call *c)
{
	return ring_drop_oldest(c->ring);
}

int voice_send_audio(struct voice_call *c, const uint8_t *pcm, uint32_t len)
{
	if (len != c->info.frame_bytes)
		return -1;
	if (ring_push(c->ring, pcm, len, 0)) {
		c->n.tx_full++;
		return -1;
	}
	c->n.app_frames++;
	kick(c);
	return 0;
}

uint32_t voice_room(const struct voice_call *c)
{
	return ring_room(c->ring);
}

uint32_t voice_queued(const struct voice_call *c)
{
	return ring_count(c->ring);
}

int voice_clear(struct voice_call *c)
{
	c->n.cleared_frames += ring_drop_audio(c->ring);
	if (ring_push(c->ring, (const uint8_t *)VONAGE_CLEAR, sizeof VONAGE_CLEAR - 1, 1))
		return -1;
	c->n.clear_sent++;
	kick(c);
	return 0;
}

int voice_notify(struct voice_call *c, const char *payload_json)
{
	char cmd[VONAGE_PAYLOAD_MAX + 48];
	int n = vonage_msg_notify(cmd, sizeof cmd, payload_json, strlen(payload_json));

	if (n < 0 || ring_push(c->ring, (const uint8_t *)cmd, (size_t)n, 1))
		return -1;
	c->n.notify_sent++;
	kick(c);
	return 0;
}

void voice_hangup(struct voice_call *c, int code, const char *why)
{
	if (c->hung_up)
		return;
	c->hung_up = 1;
	c->tp->hangup(c->tp_arg, code, why);
}

int voice_switch(struct voice_call *c, const struct voice_app *app)
{
	const char *was = c->app->name;

	if (c->hung_up)
		return -1;
	if (app == c->app && c->opened)
		return 0;   /* already there: a repeated key changes nothing */
	/* the old app's block is given back first, so it counts as room */
	size_t want = heap_wanted(c, app);
	uint64_t back = c->opened ? c->heap_len : 0;
	if (c->opts->heap_in_use && want && *c->opts->heap_in_use - back + want > c->opts->heap_max) {
		log_no_room(c, app, want, "staying in the current app");
		return -1;
	}
	/* what the old app queued here and at Vonage is not the new app's to play */
	voice_clear(c);
	close_app(c);
	c->app = app;
	c->n.switches++;
	if (voice_log_ok(c, LOG_INFO))
		log_info("call %llu: switched from the %s app to %s", (unsigned long long)c->id, was, app->name);
	if (open_app(c)) {
		c->hung_up = 1;
		return -1;
	}
	return 0;
}
