/*
 * main.cpp -- caller-sim: play Vonage against a Voice API WebSocket server.
 *
 * Flow: options -> for each call, the NCCO the way Vonage gets it (answer
 * webhook, blocking, before any audio flows so it cannot disturb the
 * timing) -> checked and resolved into a call_target -> audio source ->
 * the load engine places every call on one epoll loop -> report and exit
 * status (see --help and report.h). Everything is allocated here, once.
 */
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "audio.h"
#include "engine.h"
#include "http_client.h"
#include "ncco_check.h"
#include "jwt_mint.h"
#include "opts.h"
#include "report.h"
#include "tls.h"
#include "url.h"
#include "util.h"
#include "wav.h"

#define ANSWER_REPLY_MAX 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);   /* OpenSSL writes with write(2): a dead peer must not kill us */
}

/* One socket per call plus slack. */
static int raise_fd_limit(int calls, char *err, size_t errlen)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)calls + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	if (rl.rlim_cur >= want)
		return 0;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want) {
		snprintf(err, errlen, "open-file limit %llu is too low for %d calls (ulimit -n)",
			 (unsigned long long)rl.rlim_cur, calls);
		return -1;
	}
	return 0;
}

/*
 * Ask the answer webhook for call t's NCCO, as Vonage does: GET with
 * to/from/uuid/conversation_uuid in the query, or POST with them as JSON.
 * Returns 0 with t->ncco filled, or -1 with err.
 */
static int fetch_ncco(const struct sim_opts *o, const struct url *answer, struct call_target *t,
		      char *err, size_t errlen)
{
	static char reply[ANSWER_REPLY_MAX];
	char conv[UTIL_UUID_LEN + 5], params[512], why[300];
	struct url u = *answer;
	struct http_resp r;
	int n, rc;

	memcpy(conv, "CON-", 4);
	if (util_uuid4(conv + 4)) {
		snprintf(err, errlen, "getrandom failed");
		return -1;
	}
	if (o->post) {
		n = snprintf(params, sizeof params, "{\"to\":\"%s\",\"from\":\"%s\",\"uuid\":\"%s\",\"conversation_uuid\":\"%s\"}",
			     o->to, o->from, t->uuid, conv);
	} else {
		/* values are plain (opts.cpp checks numbers; UUIDs are hex): no escaping needed */
		n = snprintf(params, sizeof params, "%sto=%s&from=%s&uuid=%s&conversation_uuid=%s",
			     strchr(u.path, '?') ? "&" : "?", o->to, o->from, t->uuid, conv);
		if (n > 0 && (size_t)n < sizeof params && strlen(u.path) + (size_t)n < sizeof u.path)
			strcat(u.path, params);
		else
			n = -1;
	}
	if (n < 0 || (size_t)n >= sizeof params) {
		snprintf(err, errlen, "answer URL too long");
		return -1;
	}
	if (o->post)
		rc = http_request(&u, o->cafile, o->insecure, "POST", "application/json", params, (size_t)n,
				  o->http_timeout_ms, reply, sizeof reply, &r, why, sizeof why);
	else
		rc = http_request(&u, o->cafile, o->insecure, "GET", NULL, NULL, 0, o->http_timeout_ms, reply, sizeof reply,
				  &r, why, sizeof why);
	if (rc) {
		snprintf(err, errlen, "answer webhook %s: %s", o->answer_url, why);
		return -1;
	}
	if (r.status != 200) {
		snprintf(err, errlen, "answer webhook %s returned HTTP %d %s (Vonage needs 200 and an NCCO)",
			 o->answer_url, r.status, r.reason);
		return -1;
	}
	if (ncco_check(r.body, r.body_len, &t->ncco, why, sizeof why)) {
		snprintf(err, errlen, "bad NCCO from %s: %s", o->answer_url, why);
		return -1;
	}
	return 0;
}

/* Resolve t->url once (reusing prev's address for the same host and port). */
static int resolve(struct call_target *t, const struct call_target *prev, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char port[8];

	if (prev && !strcmp(prev->url.host, t->url.host) && prev->url.port == t->url.port) {
		t->addr = prev->addr;
		t->addrlen = prev->addrlen;
		return 0;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", t->url.port);
	int g = getaddrinfo(t->url.host, port, &hints, &res);
	if (g || !res || res->ai_addrlen > sizeof t->addr) {
		snprintf(err, errlen, "cannot resolve %s: %s", t->url.host, g ? gai_strerror(g) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
	t->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Every call's target: NCCO (fetched or --ws-url), parsed uri, address.
 * Returns EXIT_PASS, or the exit status with err.
 */
static int prepare_targets(const struct sim_opts *o, struct call_target *targets, char *err,
			   size_t errlen)
{
	struct url answer;
	char why[300];
	int show = o->calls >= 50 && !o->quiet && isatty(STDERR_FILENO);

	if (o->answer_url && url_parse(o->answer_url, &answer, why, sizeof why)) {
		snprintf(err, errlen, "answer URL: %s", why);
		return EXIT_USAGE;
	}
	if (o->answer_url && answer.scheme != URL_HTTP && answer.scheme != URL_HTTPS) {
		snprintf(err, errlen, "answer URL '%s' is not http:// or https://", o->answer_url);
		return EXIT_USAGE;
	}
	for (int i = 0; i < o->calls; i++) {
		struct call_target *t = &targets[i];
		if (util_uuid4(t->uuid)) {
			snprintf(err, errlen, "getrandom failed");
			return EXIT_USAGE;
		}
		if (o->ws_url) {
			if (url_parse(o->ws_url, &t->url, why, sizeof why) || (t->url.scheme != URL_WS && t->url.scheme != URL_WSS)) {
				snprintf(err, errlen, "--ws-url: %s", t->url.scheme == URL_WS || t->url.scheme == URL_WSS ? why
												 : "not ws:// or wss://");
				return EXIT_USAGE;
			}
			if (ncco_direct(o->ws_url, o->rate, o->secret_len ? NCCO_AUTH_VONAGE : NCCO_AUTH_NONE, &t->ncco)) {
				snprintf(err, errlen, "--ws-url: longer than %d bytes", NCCO_URI_MAX - 1);
				return EXIT_USAGE;
			}
		} else {
			if (fetch_ncco(o, &answer, t, err, errlen))
				return EXIT_NCCO;
			if (url_parse(t->ncco.uri, &t->url, why, sizeof why)) {   /* ncco_check parsed it already */
				snprintf(err, errlen, "NCCO uri: %s", why);
				return EXIT_NCCO;
			}
		}
		if (t->ncco.auth == NCCO_AUTH_VONAGE && !o->secret_len) {
			snprintf(err, errlen, "the NCCO asks for Vonage authorization: give the signature secret with "
					      "--secret, --secret-file or VONAGE_SIGNATURE_SECRET");
			return EXIT_USAGE;
		}
		if (resolve(t, i ? &targets[i - 1] : NULL, err, errlen))
			return EXIT_CONNECT;
		if (show && ((i + 1) % 100 == 0 || i + 1 == o->calls))
			fprintf(stderr, "\rcaller-sim: answered %d/%d calls", i + 1, o->calls);
	}
	if (show)
		fputc('\n', stderr);
	return EXIT_PASS;
}

/*
 * Audio for every rate the calls use: the WAV (one rate only) or a tone.
 * Sets *duration to the WAV's length when none was given.
 */
static int prepare_audio(const struct sim_opts *o, const struct call_target *targets, struct audio_src src[3],
			 double *duration, char *err, size_t errlen)
{
	int used[3] = { 0, 0, 0 };

	for (int i = 0; i < o->calls; i++) {
		int r = targets[i].ncco.rate;
		used[r == 8000 ? 0 : r == 16000 ? 1 : 2] = r;
	}
	if (o->wav && (!!used[0] + !!used[1] + !!used[2]) > 1) {
		snprintf(err, errlen, "--wav: the NCCOs ask for different rates; one WAV cannot serve them all");
		return -1;
	}
	for (int k = 0; k < 3; k++) {
		if (!used[k])
			continue;
		if (o->wav ? audio_load_wav(&src[k], o->wav, (uint32_t)used[k], err, errlen)
			   : audio_generate(&src[k], (uint32_t)used[k])) {
			if (!o->wav)
				snprintf(err, errlen, "out of memory for the audio source");
			return -1;
		}
		if (o->wav && !*duration)
			*duration = (double)src[k].samples / used[k];
	}
	if (!*duration)
		*duration = 10.0;
	return 0;
}

/* Does this URL (NULL = none) need TLS? Scheme only; url_parse checks the rest later. */
static int needs_tls(const char *url)
{
	return url && (!strncasecmp(url, "https://", 8) || !strncasecmp(url, "wss://", 6));
}

static int run(const struct sim_opts *o)
{
	static struct engine e;
	struct engine_opts eo;
	struct audio_src src[3];
	struct wav_writer rec;
	struct report_totals tot;
	struct report_meta meta;
	struct call_target *targets = NULL;
	SSL_CTX *tls = NULL;
	char err[512] = "";
	double duration = o->duration_s;
	int code = EXIT_USAGE;

	memset(src, 0, sizeof src);
	memset(&rec, 0, sizeof rec);
	if (raise_fd_limit(o->calls, err, sizeof err))
		goto out;
	/* the trust store costs ~200k allocations and 30 ms: load it only for https/wss */
	if (needs_tls(o->answer_url) || needs_tls(o->ws_url) || o->cafile) {
		tls = tls_ctx_create(o->insecure, o->cafile, err, sizeof err);
		if (!tls)
			goto out;
	}
	targets = (struct call_target *)calloc((size_t)o->calls, sizeof *targets);
	if (!targets) {
		snprintf(err, sizeof err, "out of memory for %d calls", o->calls);
		goto out;
	}
	code = prepare_targets(o, targets, err, sizeof err);
	if (code != EXIT_PASS)
		goto out;
	code = EXIT_USAGE;
	for (int i = 0; i < o->calls && !tls; i++) {
		if (targets[i].url.tls) {   /* an http answer URL may still hand out wss */
			tls = tls_ctx_create(o->insecure, o->cafile, err, sizeof err);
			if (!tls)
				goto out;
		}
	}
	if (prepare_audio(o, targets, src, &duration, err, sizeof err))
		goto out;
	if (o->record && wav_writer_open(&rec, o->record, (uint32_t)targets[0].ncco.rate, err, sizeof err))
		goto out;

	memset(&eo, 0, sizeof eo);
	eo.calls = o->calls;
	eo.ramp = o->ramp;
	eo.duration_s = duration;
	eo.flood = o->flood;
	eo.drain_ms = o->drain_ms;
	eo.connect_timeout_ms = o->connect_timeout_ms;
	eo.batch_us = o->batch_us;
	eo.dtmf = o->dtmf;
	eo.progress = !o->json && !o->quiet && isatty(STDOUT_FILENO);
	eo.tls = tls;
	eo.insecure = o->insecure;
	eo.secret = o->secret;
	eo.secret_len = o->secret_len;
	eo.application_id = o->application_id;
	for (int k = 0; k < 3; k++)
		eo.src[k] = src[k].pcm ? &src[k] : NULL;
	eo.record = o->record ? &rec : NULL;
	eo.playback_cap = (uint32_t)o->playback_cap;
	eo.expect = (enum chk_app)o->expect;
	eo.delay_ms = (uint32_t)o->delay_ms;
	eo.talk_ms = (uint32_t)o->talk_ms;
	eo.pause_ms = (uint32_t)o->pause_ms;
	eo.barge_in = o->barge_in;
	eo.barge_ms = (uint32_t)o->barge_ms;
	eo.jitter_ms = (uint32_t)o->jitter_ms;
	eo.gap_every = (uint32_t)o->gap_every;
	eo.gap_len = (uint32_t)o->gap_len;
	eo.burst = o->burst;

	if (engine_init(&e, &eo, targets, o->calls, err, sizeof err))
		goto out;
	/* sub-millisecond ticks: the kernel's default 50 us timer slack is most of our budget */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (engine_run(&e, &stop, err, sizeof err)) {
		engine_free(&e);
		code = EXIT_CONNECT;
		goto out;
	}
	report_sum(&e, &tot);
	memset(&meta, 0, sizeof meta);
	meta.target = o->answer_url ? o->answer_url : o->ws_url;
	meta.method = o->ws_url ? "direct" : o->post ? "POST" : "GET";
	meta.flood = o->flood;
	meta.duration_s = duration;
	meta.per_call = o->per_call;
	meta.json = o->json;
	meta.expect = (enum chk_app)o->expect;
	meta.delay_ms = o->delay_ms;
	meta.playback_cap = o->playback_cap;
	report_print(&e, &tot, &meta, stdout, stderr);
	code = report_exit_code(&tot);
	engine_free(&e);
	err[0] = '\0';
	if (o->record && wav_writer_close(&rec, err, sizeof err)) {
		fprintf(stderr, "caller-sim: --record %s: %s\n", o->record, err);
		if (code == EXIT_PASS)
			code = EXIT_USAGE;
	}
	err[0] = '\0';
out:
	if (err[0] && code != EXIT_PASS)
		fprintf(stderr, "caller-sim: %s\n", err);
	if (rec.f) {
		char ignored[8];
		(void)wav_writer_close(&rec, ignored, sizeof ignored);
	}
	for (int k = 0; k < 3; k++)
		audio_free(&src[k]);
	free(targets);
	SSL_CTX_free(tls);
	http_client_cleanup();
	return code;
}

int main(int argc, char **argv)
{
	static struct sim_opts o;   /* static: holds the secret, keep it off the stack */
	char err[512];

	switch (opts_parse(&o, argc, argv, err, sizeof err)) {
	case OPTS_HELP:
		fputs(opts_usage(), stdout);
		return 0;
	case OPTS_ERR:
		fprintf(stderr, "caller-sim: %s\n", err);
		return EXIT_USAGE;
	default:
		break;
	}
	if (o.print_token) {
		/* the one token minter: scripts and people use this, not openssl's
		 * argv (where a secret would show in ps) */
		char tok[JWT_MINT_MAX];
		int n = jwt_mint(o.secret, o.secret_len, o.application_id, time(NULL), tok, sizeof tok);
		memset(o.secret, 0, sizeof o.secret);
		if (n < 0) {
			fprintf(stderr, "caller-sim: cannot mint a token\n");
			return EXIT_USAGE;
		}
		printf("%s\n", tok);
		return 0;
	}
	install_signals();
	int code = run(&o);
	memset(o.secret, 0, sizeof o.secret);
	return code;
}
