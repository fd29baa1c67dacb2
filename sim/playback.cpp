/*
 * playback.cpp -- Vonage's playout buffer for one call; see playback.h.
 */
#include "playback.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int playback_init(struct playback *pb, uint32_t cap, uint32_t frame_bytes)
{
	memset(pb, 0, sizeof *pb);
	if (!cap || cap > PLAYBACK_MAX || !frame_bytes)
		return -1;
	pb->buf = (uint8_t *)malloc((size_t)cap * frame_bytes);
	if (!pb->buf)
		return -1;
	pb->cap = cap;
	pb->frame_bytes = frame_bytes;
	return 0;
}

void playback_deinit(struct playback *pb)
{
	free(pb->buf);
	memset(pb, 0, sizeof *pb);
}

int playback_push(struct playback *pb, const uint8_t *frame)
{
	if (pb->count == pb->cap) {
		/* Vonage asks senders to pace themselves, not to be trimmed: the
		 * frames already queued play on, the one that did not fit is lost */
		pb->overflow++;
		return -1;
	}
	memcpy(pb->buf + (size_t)((pb->head + pb->count) % pb->cap) * pb->frame_bytes, frame, pb->frame_bytes);
	pb->count++;
	pb->pushed++;
	return 0;
}

int playback_notify(struct playback *pb, const char *payload, size_t len)
{
	if (pb->mark_count == PLAYBACK_MARKS || len > PLAYBACK_PAYLOAD_MAX)
		return -1;
	struct playback_mark *m = &pb->mark[(pb->mark_head + pb->mark_count) % PLAYBACK_MARKS];
	m->pos = pb->pushed;
	m->id = pb->next_id++;
	m->len = (uint32_t)len;
	memcpy(m->payload, payload, len);
	pb->mark_count++;
	return 0;
}

int playback_tick(struct playback *pb, const uint8_t **frame)
{
	if (!pb->count) {
		pb->silence++;
		return 0;
	}
	*frame = pb->buf + (size_t)pb->head * pb->frame_bytes;
	pb->head = (pb->head + 1) % pb->cap;
	pb->count--;
	pb->left++;
	pb->heard++;
	return 1;
}

uint32_t playback_clear(struct playback *pb)
{
	uint32_t n = pb->count;

	pb->head = (pb->head + n) % pb->cap;
	pb->count = 0;
	pb->left += n;   /* every mark is now behind the playout position: all due */
	pb->cleared += n;
	pb->clears++;
	return n;
}

const struct playback_mark *playback_due(const struct playback *pb)
{
	if (!pb->mark_count)
		return NULL;
	const struct playback_mark *m = &pb->mark[pb->mark_head];
	return m->pos <= pb->left ? m : NULL;
}

void playback_pop_due(struct playback *pb)
{
	if (!pb->mark_count)
		return;
	pb->mark_head = (pb->mark_head + 1) % PLAYBACK_MARKS;
	pb->mark_count--;
}

enum playback_cmd playback_command(const char *msg, size_t len, char *payload, size_t cap, size_t *plen)
{
	enum playback_cmd r = PLAYBACK_CMD_BAD;
	cJSON *j = cJSON_ParseWithLength(msg, len);
	const cJSON *action = cJSON_GetObjectItemCaseSensitive(j, "action");

	if (!cJSON_IsObject(j) || !cJSON_IsString(action))
		goto out;
	if (!strcmp(action->valuestring, "clear")) {
		r = PLAYBACK_CMD_CLEAR;
	} else if (!strcmp(action->valuestring, "notify")) {
		cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "payload");
		/* cJSON may estimate a few bytes over what it writes: keep 5 spare (cJSON.h) */
		if (!cJSON_IsObject(p) || cap < 8 || !cJSON_PrintPreallocated(p, payload, (int)(cap - 5), 0))
			goto out;
		*plen = strlen(payload);
		r = PLAYBACK_CMD_NOTIFY;
	}
out:
	cJSON_Delete(j);
	return r;
}
