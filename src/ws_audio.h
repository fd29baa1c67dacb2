/*
 * ws_audio.h -- the audio WebSocket Vonage opens after reading our NCCO.
 *
 * Handshake: ws_audio_confirm_upgrade() runs before the 101 and refuses with
 * an HTTP status (401 bad or replayed token, 403 Origin, 404 path, 429 busy
 * address, 503 full/stopping).
 * Limits on an open call: a message-rate cap (1008) checked per message and
 * an idle timeout (1001) checked by ws_audio_sweep() once a second.
 * Data: each binary message is copied once into the connection's ring and
 * written back from there when the socket is writeable. Text messages are
 * Vonage's JSON events and only update the connection's stats row.
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

struct server;

/*
 * Once a second: close calls silent for --idle-timeout (1001) and start a
 * new message-rate window for every call.
 */
void ws_audio_sweep(struct server *srv);

/*
 * The loop did not run for seconds (the process was stopped and continued,
 * or starved): restart every call's idle clock at srv->now_s, so a silence
 * of ours is not taken for the callers' (call_rules_resume).
 */
void ws_audio_resume(struct server *srv);

/*
 * The operator hangs up (admin API): close every open call with this id
 * (id != 0), else this uuid (non-empty), else from an address in net, with
 * `code`. Returns how many calls were asked to close; *first_id is the
 * first one's id (0 if none).
 */
int ws_audio_hangup(struct server *srv, uint64_t id, const char *uuid, const struct cidr *net, int code,
		    uint64_t *first_id);

/* Protocol callback for protocols[1]. */
int ws_audio_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		      size_t len);
