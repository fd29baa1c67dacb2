/*
 * ledger.h -- caller-sim's book of the frames one call has in flight, and
 * what each echo that comes back means.
 *
 * Every frame sent gets the next sequence number (stamped into its first
 * bytes, audio.h) and a place in a window of LEDGER_WIN; an echo is looked
 * up by the number its stamp names. That decides the counts the exit
 * status rests on (engine.h struct call_result):
 *   echoed      it names a frame in flight: that frame is answered
 *   mismatched  a corrupt stamp, a number never sent, a second echo of a
 *               frame already answered, or (the caller compares) bytes
 *               that differ from what was sent
 *   lost        a frame still unanswered when LEDGER_WIN newer ones were
 *               sent (its place is reused), or when the call ends
 *   late        an echo of a frame already counted lost (it stays lost)
 * Pure: no sockets, no clock (the caller passes send times), so a test can
 * play any order of sends and echoes.
 */
#pragma once
#include <stdint.h>

#define LEDGER_WIN 256   /* frames a call may have in flight (5 s paced) */

struct ledger {
	uint32_t next_seq;       /* the number the next frame gets */
	uint32_t outstanding;    /* frames in flight */
	struct { uint32_t seq1, sent_us; } win[LEDGER_WIN];   /* seq1 = seq + 1, 0 = free */
};

/* The counts a ledger changes (a struct call_result's first fields). */
struct ledger_counts {
	uint64_t sent, echoed, lost, mismatched, late;
};

/*
 * A frame goes out at sent_us: returns its sequence number. If its window
 * place still holds an unanswered frame, that one is counted lost.
 */
uint32_t ledger_send(struct ledger *l, uint32_t sent_us, struct ledger_counts *n);

enum ledger_echo { LEDGER_ANSWERED = 0, LEDGER_MISMATCHED, LEDGER_LATE };

/*
 * An echo came back naming seq (stamp_ok 0: its stamp could not be read).
 * LEDGER_ANSWERED: the frame is answered (counted echoed) and *sent_us is
 * when it went out; the caller still compares the bytes. Otherwise it is
 * counted mismatched or late as the top of this file says.
 */
enum ledger_echo ledger_echo(struct ledger *l, int stamp_ok, uint32_t seq, struct ledger_counts *n,
			     uint32_t *sent_us);

/* The call ended: whatever is still in flight is lost. */
void ledger_finish(struct ledger *l, struct ledger_counts *n);
