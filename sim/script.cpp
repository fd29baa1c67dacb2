/*
 * script.cpp -- talk, pause and barge-in for one simulated caller; see script.h.
 */
#include "script.h"

#include <string.h>

static uint32_t ticks(uint32_t ms)
{
	uint32_t t = (ms + 10) / 20;
	return t ? t : 1;
}

void script_init(struct script *s, uint32_t talk_ms, uint32_t pause_ms, int barge_on, uint32_t barge_ms)
{
	memset(s, 0, sizeof *s);
	if (!talk_ms)
		return;
	s->talk = ticks(talk_ms);
	s->pause = ticks(pause_ms);
	s->barge_on = barge_on;
	s->barge = barge_ms ? ticks(barge_ms) : 0;   /* 0: talk at the very tick the onset is heard */
}

unsigned script_next(struct script *s, uint32_t seq, uint32_t tick)
{
	unsigned f = 0;

	s->next_seq = seq + 1;
	if (!s->talk) {
		s->kind[(seq % SCRIPT_WIN) / 8] |= (uint8_t)(1u << (seq % 8));
		return SCRIPT_TALK;
	}
	if (s->talking && !s->left) {
		s->talking = 0;
		s->left = s->pause;
		s->barge_due = 0;
	}
	if (!s->talking && (!s->left || (s->barge_due && tick >= s->barge_tick))) {
		if (s->left) {
			f |= SCRIPT_BARGE;
			s->barges++;
		}
		s->talking = 1;
		s->left = s->talk;
		s->barge_due = 0;
		s->bursts++;
		f |= SCRIPT_START;
	}
	s->left--;
	if (s->talking) {
		f |= SCRIPT_TALK;
		s->kind[(seq % SCRIPT_WIN) / 8] |= (uint8_t)(1u << (seq % 8));
	} else {
		s->kind[(seq % SCRIPT_WIN) / 8] &= (uint8_t)~(1u << (seq % 8));
	}
	return f;
}

void script_heard(struct script *s, int own_voiced, uint32_t tick)
{
	int onset = own_voiced && !s->prev_voiced;

	s->prev_voiced = own_voiced;
	/* while talking the caller does not react; one barge-in per pause */
	if (onset && s->barge_on && s->talk && !s->talking && !s->barge_due && s->next_seq) {
		s->barge_due = 1;
		s->barge_tick = tick + s->barge;
	}
}

int script_kind(const struct script *s, uint32_t seq)
{
	if (seq >= s->next_seq || s->next_seq - seq > SCRIPT_WIN)
		return -1;
	return (s->kind[(seq % SCRIPT_WIN) / 8] >> (seq % 8)) & 1;
}
