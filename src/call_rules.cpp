/*
 * call_rules.cpp -- see call_rules.h.
 */
#include "call_rules.h"

#include <string.h>

void call_rules_open(struct call_rules *c, time_t now)
{
	memset(c, 0, sizeof *c);
	c->last_rx_s = now;
	c->window_s = (uint32_t)now;
}

int call_rules_rate_over(const struct call_rules *c, time_t now, int max_rate)
{
	uint32_t secs = (uint32_t)now - c->window_s;   /* 32-bit seconds: wraps cleanly */

	if (max_rate <= 0)
		return 0;
	if (secs < 1 || secs > 3600)
		secs = 1;   /* within its first second, or a clock that went back */
	return c->msgs_window > (uint64_t)max_rate * secs;
}

int call_rules_rx(struct call_rules *c, time_t now, int frame_end, int max_rate)
{
	c->last_rx_s = now;
	/* a flood of tiny fragments is no cheaper for the sender than a flood
	 * of whole frames, but a frame that arrives in two reads is still one */
	return frame_end && ++c->msgs_window > (uint32_t)max_rate && call_rules_rate_over(c, now, max_rate);
}

void call_rules_resume(struct call_rules *c, time_t now)
{
	c->last_rx_s = now;
}

int call_rules_sweep(struct call_rules *c, time_t now, int idle_s)
{
	c->msgs_window = 0;
	c->window_s = (uint32_t)now;
	/* whole seconds, stamped by the tick (up to 100 ms late): "more than S"
	 * is silent for at least S seconds, at most S + 1.1 */
	if (idle_s <= 0 || c->pending_close || c->closing || now - c->last_rx_s <= idle_s)
		return 0;
	/* Vonage streams continuously, silence included: a silent socket is a
	 * dead or stuck peer holding a slot */
	return call_rules_ask_close(c, 1001, "idle timeout");
}

int call_rules_ask_close(struct call_rules *c, int code, const char *why)
{
	if (c->pending_close || c->closing)
		return 0;
	c->pending_close = (uint16_t)code;
	c->pending_why = why;
	return 1;
}

int call_rules_begin_close(struct call_rules *c)
{
	if (c->closing)
		return 0;   /* a WRITEABLE queued before the close may still arrive */
	c->closing = 1;
	return 1;
}

int call_rules_count_close(struct call_rules *c)
{
	if (c->close_counted)
		return 0;
	c->close_counted = 1;
	return 1;
}

int call_rules_peer_close_ok(const uint8_t *p, size_t len, int *code)
{
	if (!len) {
		*code = 1005;
		return 1;
	}
	if (len == 1) {
		*code = -1;
		return 0;
	}
	*code = p[0] << 8 | p[1];
	/* 1012-1014 were registered after RFC 6455 (lws 4.1.6 rewrites them to
	 * 1002 before we see them, but a peer may send them) */
	return (*code >= 1000 && *code <= 1003) || (*code >= 1007 && *code <= 1014) ||
	       (*code >= 3000 && *code <= 4999);
}
