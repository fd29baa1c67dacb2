/*
 * fuzz_vonage_msg.cpp -- libFuzzer harness for src/vonage_msg.cpp.
 *
 * The same bytes go to the WebSocket text-event parser (vonage_msg_parse_ws) and
 * to the event-webhook body parser (vonage_msg_parse_event_webhook), copied into an
 * exactly sized heap buffer (no NUL after it) so an overread is caught.
 * Checks: every copied field is NUL-terminated and sanitised, the event type
 * and its fields agree (rate only for connected, a digit only from the set),
 * and both parsers agree on whether the bytes are one JSON object.
 */
#include "fuzz.h"

#include "vonage_msg.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = (char *)malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);

	struct ws_event ev;
	enum ws_event_type t = vonage_msg_parse_ws(buf, size, &ev);
	FUZZ_CHECK(t == ev.type);
	FUZZ_CHECK(t >= WS_EV_INVALID && t <= WS_EV_UNKNOWN);
	FUZZ_CHECK(fuzz_is_sanitized(ev.name, sizeof ev.name));
	FUZZ_CHECK(fuzz_is_sanitized(ev.content_type, sizeof ev.content_type));
	FUZZ_CHECK(fuzz_is_sanitized(ev.uuid, sizeof ev.uuid));
	FUZZ_CHECK(ev.rate == 0 || ev.rate == 8000 || ev.rate == 16000 || ev.rate == 24000);
	if (t != WS_EV_CONNECTED)
		FUZZ_CHECK(!ev.rate && !ev.content_type[0] && !ev.uuid[0]);
	if (t != WS_EV_DTMF)
		FUZZ_CHECK(!ev.digit);
	else
		FUZZ_CHECK(!ev.digit || strchr("0123456789*#ABCD", ev.digit));
	if (t == WS_EV_INVALID)
		FUZZ_CHECK(!ev.name[0]);

	struct hook_event hk;
	int r = vonage_msg_parse_event_webhook(buf, size, &hk);
	FUZZ_CHECK(r == 0 || r == -1);
	FUZZ_CHECK(fuzz_is_sanitized(hk.status, sizeof hk.status));
	FUZZ_CHECK(fuzz_is_sanitized(hk.uuid, sizeof hk.uuid));
	if (r)
		FUZZ_CHECK(!hk.status[0] && !hk.uuid[0]);
	/* a valid ws event is a JSON object, so the webhook parser takes it too */
	if (t != WS_EV_INVALID)
		FUZZ_CHECK(r == 0);

	free(buf);
	return 0;
}
