/*
 * ledger.cpp -- see ledger.h.
 */
#include "ledger.h"

#include <string.h>

uint32_t ledger_send(struct ledger *l, uint32_t sent_us, struct ledger_counts *n)
{
	uint32_t seq = l->next_seq++;

	/* a frame still unanswered a whole window later is lost, not late */
	if (l->win[seq % LEDGER_WIN].seq1) {
		n->lost++;
		l->outstanding--;
	}
	l->win[seq % LEDGER_WIN].seq1 = seq + 1;
	l->win[seq % LEDGER_WIN].sent_us = sent_us;
	l->outstanding++;
	n->sent++;
	return seq;
}

enum ledger_echo ledger_echo(struct ledger *l, int stamp_ok, uint32_t seq, struct ledger_counts *n,
			     uint32_t *sent_us)
{
	if (!stamp_ok || seq >= l->next_seq) {
		n->mismatched++;   /* corrupt, or names a frame never sent */
		return LEDGER_MISMATCHED;
	}
	if (l->win[seq % LEDGER_WIN].seq1 != seq + 1) {
		if (l->next_seq - seq > LEDGER_WIN) {
			n->late++;   /* came after ledger_send wrote it off as lost: stays lost */
			return LEDGER_LATE;
		}
		n->mismatched++;   /* a second echo of a frame already answered */
		return LEDGER_MISMATCHED;
	}
	*sent_us = l->win[seq % LEDGER_WIN].sent_us;
	l->win[seq % LEDGER_WIN].seq1 = 0;
	l->outstanding--;
	n->echoed++;
	return LEDGER_ANSWERED;
}

void ledger_finish(struct ledger *l, struct ledger_counts *n)
{
	n->lost += l->outstanding;
	l->outstanding = 0;
	memset(l->win, 0, sizeof l->win);
}
