/*
 * http.h -- the http protocol: every plain HTTP request (http.cpp says how
 * one flows: who sent it, admission's verdict, the route).
 */
#pragma once
#include <libwebsockets.h>

#include "http_reply.h"   /* struct http_pss: the protocol's session data */

/* Protocol callback for protocols[0]. */
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len);
