/*
 * check.h -- caller-sim's verdict on what a call heard, for the server's
 * voice apps (--expect): delay=MS and parrot. (echo is checked at arrival
 * by the ledger, ledger.h; its checker here does nothing.)
 *
 * Data flow: the engine reports every frame it sends (chk_sent: sequence
 * number, playout tick, talk/pause, when), every frame the caller hears
 * from the playback buffer (chk_heard: tick, the stamp if any, whether the
 * bytes match what was sent), every clear (chk_clear), every notify answer
 * (chk_answered), each tick's time (chk_tick), and the end (chk_finish).
 * A failed rule is a fault: the first one's text is kept (why) for the
 * report, the rest are counted. Pure: no clock, no socket.
 *
 * delay=MS: a stamped frame heard at tick h, sent at tick s, passes when
 * (h - s) * 20 ms lies in (MS - 20, MS + 40]: a frame returned MS after it
 * was sent reaches the next playout tick, (MS, MS + 20], as an echo does
 * (MS = 0), and one tick of slack on either side is allowed. Every frame
 * sent more than MS + 200 ms before the caller's last frame must be heard,
 * once, bit-exact. Non-stamped audio is allowed.
 * parrot: for each completed talk burst (followed by its full pause, or by
 * the next burst), its frames are heard back in order, none before the
 * burst ended, unless a clear interrupted that playback -- then none may
 * be heard after the clear. A burst started by barge-in while a playback
 * was under way must see the server's clear within CHK_CLEAR_NS of its
 * first frame. Stamped pause frames (the silence around an utterance) and
 * non-stamped audio (beeps) are allowed. Both apps: every notify answered,
 * answers in arrival order, no bad command and no wrong-size frame.
 */
#pragma once
#include <stdint.h>

#define CHK_WIN      8192          /* delay: frames remembered (164 s) */
#define CHK_BURSTS   64            /* parrot: talk bursts remembered */
#define CHK_CLEAR_NS 20000000ull   /* barge-in -> clear: one frame time */
#define CHK_SLACK_MS 200           /* delay: the caller's last frames may stay in the server */
#define CHK_WHY_MAX  200

enum chk_app { CHK_ECHO = 0, CHK_DELAY, CHK_PARROT };

enum { CHK_SENT_TALK = 1, CHK_SENT_BARGE = 2 };   /* chk_sent flags */

struct chk_burst {
	uint32_t no;                   /* 1, 2, ... */
	uint32_t first, last;          /* sequence numbers, inclusive */
	uint32_t end_tick;             /* tick of the first pause frame after it */
	uint32_t next;                 /* the next frame expected back */
	uint32_t pause_after;          /* pause frames sent after it */
	uint8_t  ended, interrupted, resolved;
};

struct check {
	enum chk_app app;
	uint32_t delay_ms, pause_ticks;
	uint32_t unheard;              /* delay: frames in sent[] not heard yet */
	uint32_t last_tick;            /* tick of the last frame sent */
	struct { uint32_t seq1, tick; uint8_t heard; } sent[CHK_WIN];   /* delay; seq1 = seq + 1 */
	struct chk_burst burst[CHK_BURSTS];
	uint32_t nburst;               /* bursts started */
	int      barge_wait;           /* a clear is due */
	uint64_t barge_ns;
	uint32_t barge_no;
	uint32_t next_answer;
	uint64_t missing, faults;
	uint32_t first_missing;
	char     why[CHK_WHY_MAX];     /* the first fault, "" while none */
};

void chk_init(struct check *k, enum chk_app app, uint32_t delay_ms, uint32_t pause_ticks);
void chk_sent(struct check *k, uint32_t seq, uint32_t tick, unsigned flags, uint64_t ns);
void chk_heard(struct check *k, uint32_t tick, int stamped, uint32_t seq, int bytes_ok);
void chk_tick(struct check *k, uint64_t ns);
void chk_clear(struct check *k, uint64_t ns);
void chk_answered(struct check *k, uint32_t id);

/* Is there nothing more to wait for (the drain may end)? */
int chk_done(const struct check *k);

/* The call ended: final rules; why gets " (+N more faults)" when there were several. */
void chk_finish(struct check *k, uint64_t notify_received, uint64_t notify_answered, uint64_t bad_commands,
		uint64_t bad_frames);
