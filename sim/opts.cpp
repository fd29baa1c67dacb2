/*
 * opts.cpp -- caller-sim's command line; see opts.h.
 */
#include "opts.h"

#include "secret.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"

static const char usage[] =
	"usage: caller-sim [options] ANSWER_URL\n"
	"       caller-sim [options] --ws-url ws[s]://HOST[:PORT]/PATH\n"
	"       caller-sim --print-token   (with the secret in the environment or --secret-file)\n"
	"\n"
	"Plays Vonage for one or many calls: fetches the NCCO from the answer webhook (GET with\n"
	"to, from, uuid, conversation_uuid), checks it is talk/connect with a websocket endpoint,\n"
	"opens the WebSocket with the Authorization the NCCO asks for (type vonage: an HS256 JWT\n"
	"with iat, jti, iss \"Vonage\", application_id), sends websocket:connected with the\n"
	"content-type and headers, then streams 20 ms frames and checks every echo bit for bit.\n"
	"\n"
	"Call:\n"
	"  --answer-method M     GET (query parameters, default) or POST (JSON body)\n"
	"  --to NUM, --from NUM  numbers sent to the answer webhook (447700900000 / 447700900001)\n"
	"  --ws-url URL          skip the answer webhook and dial URL (no headers; Bearer JWT\n"
	"                        when a secret is given, else no Authorization)\n"
	"  --rate HZ             8000, 16000 or 24000: content type for --ws-url (24000)\n"
	"  --secret S            signature secret for the JWT (or VONAGE_SIGNATURE_SECRET)\n"
	"  --secret-file FILE    read it from FILE, one trailing newline dropped\n"
	"                        (or VONAGE_SIGNATURE_SECRET_FILE)\n"
	"  --application-id ID   application_id claim (VONAGE_APPLICATION_ID, else a fixed test id)\n"
	"  --insecure            accept any TLS certificate (self-signed); default: verify\n"
	"  --cafile FILE         also trust the CA certificate(s) in FILE\n"
	"Audio:\n"
	"  --wav FILE            send FILE: mono 16-bit PCM at the NCCO's rate (default: 440 Hz tone)\n"
	"  --duration S          seconds of audio per call (default: the WAV's length, else 10)\n"
	"  --dtmf DIGITS         send websocket:dtmf events (0-9 * #) from mid-call, 300 ms apart\n"
	"  --record FILE         write what the caller hears as a WAV (with --calls 1): one frame per\n"
	"                        20 ms playout tick, silence where nothing plays; the 8-byte\n"
	"                        sequence stamp of a frame that matched what was sent is put back to\n"
	"                        the sent bytes, so an echo sounds like the source, one tick later\n"
	"  --talk MS             scripted caller: talk MS (the WAV or tone), then --pause MS of\n"
	"  --pause MS              stamped all-zero frames, and again; one frame per 20 ms throughout,\n"
	"                        starting with talk (20..3600000 each; give both). A --wav quieter\n"
	"                        than the rule under --barge-in is not speech to the parrot\n"
	"  --barge-in MS         when, in a pause, the caller hears its own words begin to come back\n"
	"                        (a stamped frame the parrot rule calls voiced: >= 1/8 of samples at\n"
	"                        |s| >= 1024; beeps do not count), it starts its next burst MS later\n"
	"                        instead of at the end of the pause (0..60000; needs --talk)\n"
	"Impairments (a network between Vonage and the server; the server's quality figures should\n"
	"show them; --json reports what was injected under \"injected\"):\n"
	"  --jitter MS           send each frame up to MS late, uniformly at random, on the 20 ms\n"
	"                        grid (0..1000; above 20 frames bunch up). RFC 3550 jitter of a\n"
	"                        uniform delay is about MS/3\n"
	"  --gap-every N         of every N frames the last --gap-len are not sent when due (2..100000)\n"
	"  --gap-len K           frames in each gap (1..1000, fewer than N; default 5)\n"
	"  --burst               send a gap's frames at once with the next frame (a stall the sender\n"
	"                        catches up on) instead of never (needs --gap-every)\n"
	"Playback (what Vonage does with the audio the server sends):\n"
	"  --playback-buffer N   frames Vonage queues for playout (1..65536; default 3072, the current\n"
	"                        figure; the 2021 guide says 1024). One frame is played per 20 ms tick;\n"
	"                        when full, the newest frame is dropped (playback_overflow). The\n"
	"                        server's {\"action\":\"notify\",\"payload\":{...}} is answered with\n"
	"                        websocket:notify and the same payload once every frame queued before\n"
	"                        it has played; {\"action\":\"clear\"} discards the queue, is answered\n"
	"                        with websocket:cleared, and then the notifies that were waiting are\n"
	"                        answered in order (Vonage does not document this; Twilio does so).\n"
	"                        Other text is counted as bad_commands. Playback is on only with\n"
	"                        --record, --expect delay/parrot, --talk, --barge-in or this option:\n"
	"                        it costs about 3 MiB per call at 24 kHz, so plain echo load runs\n"
	"                        without it (and then clear/notify are answered at once). Not with\n"
	"                        --flood: playout is real time.\n"
	"  --expect APP          what the server's app does, and so what is checked (default echo):\n"
	"                        echo      every frame echoed bit-exact (the checks below)\n"
	"                        delay=MS  every frame returns MS later: a stamped frame heard at tick\n"
	"                                  h, sent at tick s, needs MS-20 < (h-s)*20 <= MS+40 (the\n"
	"                                  next playout tick after MS, one tick of slack each side);\n"
	"                                  every frame sent over MS+200 ms before the caller's last\n"
	"                                  one is heard once, bit-exact (0..60000)\n"
	"                        parrot    each talk burst followed by its full pause (or by the next\n"
	"                                  burst) is heard back in order after it ended; every notify\n"
	"                                  answered, in order; with --barge-in, a burst that starts\n"
	"                                  while a playback is under way gets the server's clear\n"
	"                                  within 20 ms of its first frame, and nothing of the\n"
	"                                  interrupted playback is heard after it (needs --talk)\n"
	"                        delay and parrot allow non-stamped audio (heard_other: beeps,\n"
	"                        silence) and fail on bad_commands or wrong-size frames; the\n"
	"                        echo-at-arrival counts (lost, late, ...) are shown, not judged\n"
	"Load:\n"
	"  --calls N             concurrent calls (1)\n"
	"  --ramp R              calls started per second (100; 0 = all at once)\n"
	"  --flood K             no pacing: keep K frames in flight per call (1..64)\n"
	"  --drain-ms MS         after the last frame, wait this long for echoes (2000)\n"
	"  --connect-timeout MS  connect + TLS + upgrade limit per call (5000)\n"
	"  --http-timeout MS     answer webhook limit per request (5000)\n"
	"  --batch-us US         shortest gap between two wakeups of the event loop: ticks and\n"
	"                        echoes due meanwhile are handled together (100; 0 = every event)\n"
	"Output:\n"
	"  --json                one JSON line on stdout instead of the table\n"
	"  --per-call            list every call (default: all up to 20 calls, else the failed ones)\n"
	"  --quiet               no live progress line (it is shown only when stdout is a terminal)\n"
	"  --print-token         print one fresh Vonage-style JWT (as above) and exit: for trying\n"
	"                        the socket by hand, e.g. websocat -H \"Authorization: Bearer $(...)\"\n"
	"  -h, --help            this text\n"
	"\n"
	"Checks, per call and in total: frames sent, echoed, lost, mismatched (not bit-exact),\n"
	"late (round trip > 20 ms), round-trip p50/p90/p99/max; send lag and caller-sim's CPU.\n"
	"With playback: frames heard, silence ticks, heard_other, playback_overflow, clears and\n"
	"the frames they discarded, notify received/answered, bad_commands, and the --expect\n"
	"check with its first fault per call.\n"
	"\n"
	"Exit status:\n"
	"  0  every frame came back bit-exact (echo), or the --expect check held on every call\n"
	"  1  frames lost, mismatched, or stalled (the server stopped reading); with delay or\n"
	"     parrot: the check failed, or stalled\n"
	"  2  bad usage: option, missing secret, unreadable or wrong-format WAV\n"
	"  3  the answer webhook failed or returned an NCCO caller-sim cannot play\n"
	"  4  a call failed: connect, TLS, handshake refused (e.g. HTTP 401), closed by the server\n";

const char *opts_usage(void) { return usage; }

enum {
	O_METHOD = 256, O_TO, O_FROM, O_WS_URL, O_RATE, O_SECRET, O_SECRET_FILE, O_APP_ID, O_INSECURE, O_CAFILE,
	O_WAV, O_DURATION, O_DTMF, O_RECORD, O_CALLS, O_RAMP, O_FLOOD, O_DRAIN, O_CONNECT_TO, O_HTTP_TO, O_BATCH, O_JSON,
	O_PER_CALL, O_QUIET, O_PRINT_TOKEN, O_PLAYBACK, O_EXPECT, O_TALK, O_PAUSE, O_BARGE, O_JITTER, O_GAP_EVERY, O_GAP_LEN, O_BURST,
};

static const struct option longopts[] = {
	{ "answer-method", required_argument, NULL, O_METHOD },
	{ "to", required_argument, NULL, O_TO },
	{ "from", required_argument, NULL, O_FROM },
	{ "ws-url", required_argument, NULL, O_WS_URL },
	{ "rate", required_argument, NULL, O_RATE },
	{ "secret", required_argument, NULL, O_SECRET },
	{ "secret-file", required_argument, NULL, O_SECRET_FILE },
	{ "application-id", required_argument, NULL, O_APP_ID },
	{ "insecure", no_argument, NULL, O_INSECURE },
	{ "cafile", required_argument, NULL, O_CAFILE },
	{ "wav", required_argument, NULL, O_WAV },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "dtmf", required_argument, NULL, O_DTMF },
	{ "record", required_argument, NULL, O_RECORD },
	{ "calls", required_argument, NULL, O_CALLS },
	{ "ramp", required_argument, NULL, O_RAMP },
	{ "flood", required_argument, NULL, O_FLOOD },
	{ "drain-ms", required_argument, NULL, O_DRAIN },
	{ "connect-timeout", required_argument, NULL, O_CONNECT_TO },
	{ "http-timeout", required_argument, NULL, O_HTTP_TO },
	{ "batch-us", required_argument, NULL, O_BATCH },
	{ "json", no_argument, NULL, O_JSON },
	{ "per-call", no_argument, NULL, O_PER_CALL },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "print-token", no_argument, NULL, O_PRINT_TOKEN },
	{ "playback-buffer", required_argument, NULL, O_PLAYBACK },
	{ "expect", required_argument, NULL, O_EXPECT },
	{ "talk", required_argument, NULL, O_TALK },
	{ "pause", required_argument, NULL, O_PAUSE },
	{ "barge-in", required_argument, NULL, O_BARGE },
	{ "jitter", required_argument, NULL, O_JITTER },
	{ "gap-every", required_argument, NULL, O_GAP_EVERY },
	{ "gap-len", required_argument, NULL, O_GAP_LEN },
	{ "burst", no_argument, NULL, O_BURST },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static enum opts_result bad(char *err, size_t errlen, const char *flag, const char *v, const char *want)
{
	snprintf(err, errlen, "--%s '%.100s': %s", flag, v, want);
	return OPTS_ERR;
}

static int parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* Numbers go into a query string and a JSON body unescaped: keep them plain. */
static int set_number(char *out, const char *v)
{
	size_t n = strlen(v);
	if (!n || n >= OPTS_NUMBER_MAX || strspn(v, "0123456789+abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") != n)
		return -1;
	memcpy(out, v, n + 1);
	return 0;
}

static int set_secret(struct sim_opts *o, const char *s, size_t n)
{
	if (!n || n > sizeof o->secret)
		return -1;
	memcpy(o->secret, s, n);
	o->secret_len = n;
	return 0;
}

/* caller-echo's own rule (src/secret.h), so both read a file the same way. */
static int read_secret_file(struct sim_opts *o, const char *path, char *err, size_t errlen)
{
	uint8_t buf[OPTS_SECRET_MAX];
	int n = secret_read_file(path, buf, sizeof buf, err, errlen);

	if (n < 0)
		return -1;
	if (set_secret(o, (const char *)buf, (size_t)n)) {
		snprintf(err, errlen, "secret file '%s': empty", path);
		return -1;
	}
	return 0;
}

/* echo, delay=MS or parrot */
static int parse_expect(struct sim_opts *o, const char *v)
{
	if (!strcmp(v, "echo"))
		o->expect = CHK_ECHO;
	else if (!strcmp(v, "parrot"))
		o->expect = CHK_PARROT;
	else if (!strncmp(v, "delay=", 6) && !parse_int(v + 6, 0, 60000, &o->delay_ms))
		o->expect = CHK_DELAY;
	else
		return -1;
	return 0;
}

static int valid_dtmf(const char *s)
{
	return strspn(s, "0123456789*#") == strlen(s) && strlen(s) <= 32;
}

enum opts_result opts_parse(struct sim_opts *o, int argc, char **argv, char *err, size_t errlen)
{
	const char *secret_flag = NULL, *secret_file = NULL;
	int c, playback_flag = 0;

	memset(o, 0, sizeof *o);
	strcpy(o->to, "447700900000");
	strcpy(o->from, "447700900001");
	o->rate = 24000;
	o->calls = 1;
	o->gap_len = 5;
	o->ramp = 100;
	o->drain_ms = 2000;
	o->connect_timeout_ms = 5000;
	o->http_timeout_ms = 5000;
	o->batch_us = 100;
	o->dtmf = "";
	o->application_id = getenv("VONAGE_APPLICATION_ID");
	if (!o->application_id || !o->application_id[0])
		o->application_id = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *v = optarg;
		switch (c) {
		case 'h': return OPTS_HELP;
		case O_METHOD:
			if (!strcasecmp(v, "GET"))
				o->post = 0;
			else if (!strcasecmp(v, "POST"))
				o->post = 1;
			else
				return bad(err, errlen, "answer-method", v, "GET or POST");
			break;
		case O_TO:
			if (set_number(o->to, v))
				return bad(err, errlen, "to", v, "letters, digits, + . _ - only");
			break;
		case O_FROM:
			if (set_number(o->from, v))
				return bad(err, errlen, "from", v, "letters, digits, + . _ - only");
			break;
		case O_WS_URL: o->ws_url = v; break;
		case O_RATE:
			if (parse_int(v, 8000, 24000, &o->rate) || (o->rate != 8000 && o->rate != 16000 && o->rate != 24000))
				return bad(err, errlen, "rate", v, "8000, 16000 or 24000");
			break;
		case O_SECRET: secret_flag = v; break;
		case O_SECRET_FILE: secret_file = v; break;
		case O_APP_ID: o->application_id = v; break;
		case O_INSECURE: o->insecure = 1; break;
		case O_CAFILE: o->cafile = v; break;
		case O_WAV: o->wav = v; break;
		case O_DURATION:
			if (parse_double(v, 0.02, 86400, &o->duration_s))
				return bad(err, errlen, "duration", v, "seconds, 0.02 to 86400");
			break;
		case O_DTMF:
			if (!valid_dtmf(v))
				return bad(err, errlen, "dtmf", v, "up to 32 of 0-9 * #");
			o->dtmf = v;
			break;
		case O_RECORD: o->record = v; break;
		case O_CALLS:
			if (parse_int(v, 1, 100000, &o->calls))
				return bad(err, errlen, "calls", v, "1 to 100000");
			break;
		case O_RAMP:
			if (parse_double(v, 0, 1e6, &o->ramp))
				return bad(err, errlen, "ramp", v, "calls per second, 0 = all at once");
			break;
		case O_FLOOD:
			if (parse_int(v, 1, ENGINE_FLOOD_MAX, &o->flood))
				return bad(err, errlen, "flood", v, "1 to 64 frames in flight");
			break;
		case O_DRAIN:
			if (parse_int(v, 0, 600000, &o->drain_ms))
				return bad(err, errlen, "drain-ms", v, "0 to 600000");
			break;
		case O_CONNECT_TO:
			if (parse_int(v, 1, 600000, &o->connect_timeout_ms))
				return bad(err, errlen, "connect-timeout", v, "1 to 600000 ms");
			break;
		case O_HTTP_TO:
			if (parse_int(v, 1, 600000, &o->http_timeout_ms))
				return bad(err, errlen, "http-timeout", v, "1 to 600000 ms");
			break;
		case O_BATCH:
			if (parse_int(v, 0, 10000, &o->batch_us))
				return bad(err, errlen, "batch-us", v, "0 to 10000 microseconds");
			break;
		case O_JSON: o->json = 1; break;
		case O_PER_CALL: o->per_call = 1; break;
		case O_QUIET: o->quiet = 1; break;
		case O_PRINT_TOKEN: o->print_token = 1; break;
		case O_PLAYBACK:
			if (parse_int(v, 1, PLAYBACK_MAX, &o->playback_cap))
				return bad(err, errlen, "playback-buffer", v, "frames, 1 to 65536");
			playback_flag = 1;
			break;
		case O_EXPECT:
			if (parse_expect(o, v))
				return bad(err, errlen, "expect", v, "echo, delay=MS (0 to 60000) or parrot");
			break;
		case O_TALK:
			if (parse_int(v, 20, 3600000, &o->talk_ms))
				return bad(err, errlen, "talk", v, "milliseconds, 20 to 3600000");
			break;
		case O_PAUSE:
			if (parse_int(v, 20, 3600000, &o->pause_ms))
				return bad(err, errlen, "pause", v, "milliseconds, 20 to 3600000");
			break;
		case O_BARGE:
			if (parse_int(v, 0, 60000, &o->barge_ms))
				return bad(err, errlen, "barge-in", v, "milliseconds, 0 to 60000");
			o->barge_in = 1;
			break;
		case O_JITTER:
			if (parse_int(v, 0, 1000, &o->jitter_ms))
				return bad(err, errlen, "jitter", v, "milliseconds, 0 to 1000");
			break;
		case O_GAP_EVERY:
			if (parse_int(v, 2, 100000, &o->gap_every))
				return bad(err, errlen, "gap-every", v, "frames, 2 to 100000");
			break;
		case O_GAP_LEN:
			if (parse_int(v, 1, 1000, &o->gap_len))
				return bad(err, errlen, "gap-len", v, "frames, 1 to 1000");
			break;
		case O_BURST: o->burst = 1; break;
		default:
			snprintf(err, errlen, "unknown option or missing value: %s (see --help)",
				 optind > 0 && optind <= argc ? argv[optind - 1] : "?");
			return OPTS_ERR;
		}
	}
	if (optind < argc)
		o->answer_url = argv[optind++];
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (one answer URL only)", argv[optind]);
		return OPTS_ERR;
	}
	if (!o->print_token && !o->answer_url == !o->ws_url) {
		snprintf(err, errlen, "give an answer URL or --ws-url (one of them; see --help)");
		return OPTS_ERR;
	}

	/* flag beats environment; --secret beats --secret-file */
	if (secret_flag) {
		if (set_secret(o, secret_flag, strlen(secret_flag)))
			return bad(err, errlen, "secret", "...", "1 to 512 bytes");
	} else if (secret_file) {
		if (read_secret_file(o, secret_file, err, errlen))
			return OPTS_ERR;
	} else {
		const char *s = getenv("VONAGE_SIGNATURE_SECRET");
		const char *f = getenv("VONAGE_SIGNATURE_SECRET_FILE");
		if (s && s[0]) {
			if (set_secret(o, s, strlen(s))) {
				snprintf(err, errlen, "VONAGE_SIGNATURE_SECRET: longer than 512 bytes");
				return OPTS_ERR;
			}
		} else if (f && f[0] && read_secret_file(o, f, err, errlen)) {
			return OPTS_ERR;
		}
	}
	if (o->print_token && (o->answer_url || o->ws_url || !o->secret_len)) {
		snprintf(err, errlen, "--print-token takes no URL and needs the secret (VONAGE_SIGNATURE_SECRET, "
				      "VONAGE_SIGNATURE_SECRET_FILE or --secret-file)");
		return OPTS_ERR;
	}
	if (o->record && o->calls != 1) {
		snprintf(err, errlen, "--record records one call; use it with --calls 1");
		return OPTS_ERR;
	}
	if (o->gap_every && o->gap_len >= o->gap_every) {
		snprintf(err, errlen, "--gap-len %d must be less than --gap-every %d: some frames must be sent",
			 o->gap_len, o->gap_every);
		return OPTS_ERR;
	}
	if (o->burst && !o->gap_every) {
		snprintf(err, errlen, "--burst sends a gap's frames late: it needs --gap-every");
		return OPTS_ERR;
	}
	if (o->flood && (o->jitter_ms || o->gap_every)) {
		snprintf(err, errlen, "--jitter and --gap-every impair a paced call; --flood has no 20 ms grid");
		return OPTS_ERR;
	}
	if (!o->talk_ms != !o->pause_ms) {
		snprintf(err, errlen, "--talk and --pause go together: the caller alternates the two");
		return OPTS_ERR;
	}
	if ((o->barge_in || o->expect == CHK_PARROT) && !o->talk_ms) {
		snprintf(err, errlen, "%s needs --talk and --pause: the caller must stop talking to be answered",
			 o->barge_in ? "--barge-in" : "--expect parrot");
		return OPTS_ERR;
	}
	/* playback is what these options observe; plain echo load stays small without it */
	if (o->record || o->expect != CHK_ECHO || o->talk_ms || o->barge_in || playback_flag) {
		if (!playback_flag)
			o->playback_cap = PLAYBACK_DEFAULT;
		if (o->flood) {
			snprintf(err, errlen, "--flood cannot be used with playback (--record, --expect delay/parrot, --talk, "
					      "--barge-in, --playback-buffer): playout is one frame per 20 ms");
			return OPTS_ERR;
		}
	}
	return OPTS_OK;
}
