/*
 * vonage_msg.h -- parse the JSON Vonage sends us: the WebSocket's text
 * messages ("ws events": websocket:connected, websocket:dtmf, ...) and the
 * answer and event webhooks' bodies and query values.
 *
 * (Names: "event webhook" is Vonage's webhook of call events -- what stats
 * counts as events_received; a "ws event" is a text message on the audio
 * socket; this module parses both and is named for where they come from.)
 * Both parsers copy the few fields we use into fixed buffers, sanitised to
 * printable ASCII (they end up in logs and on the stats page), and free the
 * cJSON tree before returning. Nothing here is on the audio path: text frames
 * are rare (one connected event, a few DTMF digits). It also builds the
 * one command with a variable part that we send back: notify.
 */
#pragma once
#include <stddef.h>

#define VONAGE_UUID_MAX 64
#define VONAGE_CTYPE_MAX 40
#define VONAGE_NAME_MAX 40
#define VONAGE_PAYLOAD_MAX 256   /* a notify payload, printed compactly */

/* The two commands an app may send Vonage (reference.md A.5). */
#define VONAGE_CLEAR "{\"action\":\"clear\"}"

enum ws_event_type {
	WS_EV_INVALID = 0,   /* not JSON, not an object, or no string "event" */
	WS_EV_CONNECTED,     /* websocket:connected */
	WS_EV_DTMF,          /* websocket:dtmf */
	WS_EV_CLEARED,       /* websocket:cleared */
	WS_EV_NOTIFY,        /* websocket:notify */
	WS_EV_UNKNOWN,       /* any other "event" value: logged and ignored */
};

struct ws_event {
	enum ws_event_type type;
	char name[VONAGE_NAME_MAX];          /* the "event" value, sanitised */
	char content_type[VONAGE_CTYPE_MAX]; /* connected: "content-type" */
	int  rate;                           /* connected: 8000/16000/24000, 0 if not L16 */
	char uuid[VONAGE_UUID_MAX];          /* connected: top-level "uuid" (NCCO header) */
	char from[VONAGE_UUID_MAX];          /* connected: top-level "from" (NCCO header) */
	char to[VONAGE_UUID_MAX];            /* connected: top-level "to" (NCCO header) */
	char digit;                          /* dtmf: '0'-'9','*','#','A'-'D'; 0 if bad */
	/* notify: the "payload" object as compact JSON, "" when absent, not an
	 * object, or longer than VONAGE_PAYLOAD_MAX - 1 (not sanitised: JSON) */
	char payload[VONAGE_PAYLOAD_MAX];
};

/* Parse one text message. Always fills *ev; returns ev->type. */
enum ws_event_type vonage_msg_parse_ws(const char *buf, size_t len, struct ws_event *ev);

/*
 * Build {"action":"notify","payload":P} into out (NUL-terminated) from
 * payload_json, which must be one JSON object. Returns the length, or -1
 * when the payload is not an object or the command does not fit cap.
 */
int vonage_msg_notify(char *out, size_t cap, const char *payload_json, size_t len);

struct hook_event {
	char status[VONAGE_NAME_MAX];   /* "" if absent */
	char uuid[VONAGE_UUID_MAX];     /* "uuid", else "call_uuid"; "" if absent */
};

/* Parse an event-webhook body. Returns 0, or -1 if not a JSON object. */
int vonage_msg_parse_event_webhook(const char *buf, size_t len, struct hook_event *ev);

/*
 * Copy at most cap-1 bytes of s, replacing anything but printable ASCII
 * (and the quote/angle characters) with '?'. Always NUL-terminates.
 */
void vonage_msg_sanitize(char *dst, size_t cap, const char *s, size_t len);

/* What an answer webhook tells us about the call (GET query or POST body). */
struct call_info {
	char uuid[VONAGE_UUID_MAX];
	char conversation_uuid[VONAGE_UUID_MAX];
	char from[VONAGE_UUID_MAX];
	char to[VONAGE_UUID_MAX];
};

/*
 * Parse an answer-webhook POST body. Returns how many values were cut to
 * fit their field (0 normally), or -1 if the body is not a JSON object.
 */
int vonage_msg_parse_answer(const char *buf, size_t len, struct call_info *ci);

/*
 * One answer-webhook query argument, "name=value" as lws hands it over
 * (URL-decoded, len bytes, any length): uuid, conversation_uuid, from and
 * to fill ci (the first occurrence wins), others are ignored. Returns 1 if
 * the value was cut to fit its field, else 0. ci starts zeroed.
 */
int vonage_msg_answer_arg(struct call_info *ci, const char *arg, size_t len);
