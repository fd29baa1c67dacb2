/*
 * ws_audio.h -- the audio WebSocket Vonage opens after reading our NCCO.
 *
 * Handshake: ws_audio_confirm_upgrade() runs before the 101 and refuses with
 * an HTTP status (401 bad or replayed token, 403 Origin, 404 path, 429 busy
 * address, 503 full/stopping).
 * An open call is a struct call (calls.h) in the session data: its
 * message-rate cap (1008) is checked per message here, its idle timeout
 * (1001) by the server's once-a-second sweep over srv->calls, which closes
 * it through the call's transport interface like the operator's hang-up.
 * Data: each binary message is copied once into the call's ring and handed
 * to its voice app; what the app queues is written from the ring's slots.
 * Text messages are Vonage's JSON events, for the call's record and its app.
 */
#pragma once
#include <libwebsockets.h>

#include "addr.h"
#include "audio_msg.h"
#include "config.h"

#define WS_TEXT_MAX AUDIO_MSG_TEXT_MAX   /* larger text messages close with 1009 */

/* Bytes of per-session data the audio protocol needs for this config. */
size_t ws_audio_pss_size(const struct config *cfg);

/* lws's per-connection receive buffer for this config (protocol rx_buffer_size). */
size_t ws_audio_rx_buffer_size(const struct config *cfg);

/*
 * Bytes held for each audio connection by what we configure: the session
 * data with its ring, plus lws's receive buffer. lws's own per-socket
 * structures (~2-3 KiB) and kernel socket buffers come on top.
 */
size_t ws_audio_conn_bytes(const struct config *cfg);

/*
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE handler (either protocol may receive it,
 * depending on what the connection served before). Returns 0 to allow the
 * upgrade, 1 after sending a refusal, -1 to hang up.
 */
int ws_audio_confirm_upgrade(struct lws *wsi, const char *upgrade);

/* Protocol callback for protocols[1]. */
int ws_audio_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len);
