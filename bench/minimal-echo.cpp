/*
 * minimal-echo.cpp -- the benchmark's baseline: plain libwebsockets echo.
 *
 * What the lws minimal-ws-server-echo example does, cut to the bone: every
 * received message is copied into a malloc'd buffer queued on an lws_ring,
 * and written back from SERVER_WRITEABLE. No JWT, no stats, no HTTP routes,
 * no fixed ring of our own. `make bench` runs it beside caller-echo under the
 * same load so each of our figures has a plain-lws figure next to it.
 *   minimal-echo PORT [poll|libev|libuv]
 */
#include <libwebsockets.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH 64

struct msg { uint8_t *payload; size_t len; char first, final; };
struct pss { struct lws_ring *ring; };

static volatile sig_atomic_t interrupted;
static struct lws_context *ctx;

static void destroy_msg(void *m) { free(((struct msg *)m)->payload); }

static int cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct pss *pss = (struct pss *)user;
	const struct msg *pm;
	struct msg m;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		pss->ring = lws_ring_create(sizeof(struct msg), DEPTH, destroy_msg);
		return pss->ring ? 0 : -1;
	case LWS_CALLBACK_RECEIVE:
		if (!lws_frame_is_binary(wsi))
			return 0;   /* Vonage's JSON events: nothing to echo */
		if (!lws_ring_get_count_free_elements(pss->ring))
			return 0;   /* full: drop, like the lws example */
		m.payload = (uint8_t *)malloc(LWS_PRE + len);
		if (!m.payload)
			return -1;
		memcpy(m.payload + LWS_PRE, in, len);
		m.len = len;
		/* lws may hand a message over in pieces: echo them as fragments */
		m.first = (char)lws_is_first_fragment(wsi);
		m.final = (char)lws_is_final_fragment(wsi);
		if (lws_ring_insert(pss->ring, &m, 1) != 1) {
			free(m.payload);
			return 0;
		}
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		pm = (const struct msg *)lws_ring_get_element(pss->ring, NULL);
		if (!pm)
			return 0;
		if (lws_write(wsi, pm->payload + LWS_PRE, pm->len,
			      (enum lws_write_protocol)lws_write_ws_flags(LWS_WRITE_BINARY, pm->first, pm->final)) <
		    (int)pm->len)
			return -1;
		lws_ring_consume(pss->ring, NULL, NULL, 1);
		if (lws_ring_get_element(pss->ring, NULL))
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLOSED:
		if (pss->ring)
			lws_ring_destroy(pss->ring);
		pss->ring = NULL;
		return 0;
	default:
		return 0;
	}
}

static struct lws_protocols protocols[] = {
	{ "echo", cb, sizeof(struct pss), 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void on_signal(int s) { (void)s; interrupted = 1; }
/* event-library loops do not return to lws_service(): stop them from inside */
static void evlib_signal(void *h, int s)
{
	(void)h; (void)s;
	interrupted = 1;
	lws_context_destroy(ctx);
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;

	if (argc < 2) {
		fprintf(stderr, "usage: minimal-echo PORT [poll|libev|libuv]\n");
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = atoi(argv[1]);
	info.iface = "127.0.0.1";
	info.protocols = protocols;
	/* no fd_limit_per_thread: lws 4.1 would then find sockets by a linear
	 * scan (wsi_from_fd); its table is sized from RLIMIT_NOFILE instead */
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (argc > 2 && !strcmp(argv[2], "libev"))
		info.options |= LWS_SERVER_OPTION_LIBEV;
	if (argc > 2 && !strcmp(argv[2], "libuv"))
		info.options |= LWS_SERVER_OPTION_LIBUV;
	if (info.options & (LWS_SERVER_OPTION_LIBEV | LWS_SERVER_OPTION_LIBUV))
		info.signal_cb = evlib_signal;
	ctx = lws_create_context(&info);
	if (!ctx)
		return 1;
	while (!interrupted && lws_service(ctx, 0) >= 0)
		;
	lws_context_destroy(ctx);
	return 0;
}
