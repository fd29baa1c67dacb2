/*
 * script.h -- the simulated caller's side of a conversation: talk bursts
 * and pauses (--talk MS --pause MS), and barging in (--barge-in MS).
 *
 * Data flow: the engine asks script_next once per frame it sends (one per
 * 20 ms tick) whether that frame is talk (source audio) or pause (zeros,
 * still stamped), and tells script_heard what the caller heard at each
 * playout tick. The call starts with a talk burst. Barge-in: when, during
 * a pause, the caller hears its own speech begin to come back (a stamped,
 * voiced frame after one that was not), the next burst starts MS later
 * instead of at the end of the pause. Non-stamped audio (the parrot's beep)
 * does not trigger it: what a barge-in tests is interrupting a playback.
 * Whether each recent frame was talk is remembered for SCRIPT_WIN frames,
 * so frames that come back can be compared with what was sent. Pure: no
 * clock, no socket; ticks are the engine's playout tick numbers.
 */
#pragma once
#include <stdint.h>

#define SCRIPT_WIN 8192   /* frames whose kind is remembered: 164 s */

enum {
	SCRIPT_TALK  = 1,   /* this frame is talk (else pause) */
	SCRIPT_START = 2,   /* the first frame of a talk burst */
	SCRIPT_BARGE = 4,   /* ... of a burst started early by barge-in */
};

struct script {
	uint32_t talk, pause, barge;   /* ticks; talk 0 = no script: every frame is talk */
	int      barge_on;
	int      talking;
	uint32_t left;                 /* frames left in the current burst or pause */
	int      barge_due;            /* an onset was heard in this pause */
	uint32_t barge_tick;           /* ... the next burst starts at this tick */
	int      prev_voiced;          /* the previous heard frame was own voiced speech */
	uint32_t next_seq;
	uint32_t bursts, barges;
	uint8_t  kind[SCRIPT_WIN / 8]; /* bit seq % SCRIPT_WIN: 1 talk */
};

/* talk_ms 0: no script. Durations round to whole 20 ms frames, at least one. */
void script_init(struct script *s, uint32_t talk_ms, uint32_t pause_ms, int barge_on, uint32_t barge_ms);

/* Frame seq (0, 1, 2, ... with no gaps) is sent at tick: SCRIPT_* flags. */
unsigned script_next(struct script *s, uint32_t seq, uint32_t tick);

/* At tick the caller heard a frame: own_voiced = stamped and audio_voiced. */
void script_heard(struct script *s, int own_voiced, uint32_t tick);

/* Was frame seq talk? 1 talk, 0 pause, -1 not known (never sent, or over SCRIPT_WIN ago). */
int script_kind(const struct script *s, uint32_t seq);
