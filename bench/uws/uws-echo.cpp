/*
 * uws-echo.cpp -- uWebSockets echo server for benchmarking against caller-echo.
 *
 *   uws-echo PORT SECRET_FILE [CERT KEY]
 *
 * Single thread, listens on 127.0.0.1:PORT (ws; wss with CERT KEY via SSLApp /
 * OpenSSL). Every path ("/socket" and "/*") upgrades to WebSocket only when the
 * request carries "Authorization: Bearer <JWT>" whose HS256 signature verifies
 * against the secret (libjwt 1.10.2: jwt_decode + jwt_get_alg == HS256),
 * otherwise 401. Binary messages are echoed with the same opcode; text messages
 * (Vonage's JSON events) are ignored. No compression.
 *
 * Not part of caller-echo and not built by make: bench/uws/build.sh builds
 * it against a uWebSockets snapshot fetched outside this tree (none of its
 * code is in this repository); `make bench` runs it when UWS_ECHO names
 * the binary (docs/benchmarks.md).
 *
 * The secret file is read the way caller-echo / caller-sim read it
 * (src/secret.cpp): the file's bytes minus one trailing "\n" or "\r\n".
 * No claims (iat/exp/application_id) are checked -- signature + alg only.
 *
 * SIGINT / SIGTERM: exit at once (_exit(0)). Installed explicitly because a
 * shell's background job inherits SIGINT as ignored.
 */
#include "App.h"

#include <jwt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <string>
#include <string_view>

static std::string g_secret;

static bool read_secret(const char *path, std::string &out)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	char buf[4096];
	size_t n = fread(buf, 1, sizeof buf, f);
	bool bad = ferror(f) || !feof(f);
	fclose(f);
	if (bad)
		return false;
	if (n && buf[n - 1] == '\n') {
		n--;
		if (n && buf[n - 1] == '\r')
			n--;
	}
	out.assign(buf, n);
	return true;
}

/* "Bearer <HS256 JWT signed with g_secret>" ? */
static bool authorized(std::string_view authz)
{
	if (authz.size() < 8 || strncasecmp(authz.data(), "Bearer ", 7))
		return false;
	authz.remove_prefix(7);
	while (!authz.empty() && authz.front() == ' ')
		authz.remove_prefix(1);
	while (!authz.empty() && (authz.back() == ' ' || authz.back() == '\t'))
		authz.remove_suffix(1);
	if (authz.empty() || authz.size() > 8192)
		return false;
	std::string token(authz);   /* jwt_decode wants a NUL-terminated string */
	jwt_t *jwt = nullptr;
	if (jwt_decode(&jwt, token.c_str(), (const unsigned char *)g_secret.data(), (int)g_secret.size()) || !jwt)
		return false;
	bool ok = jwt_get_alg(jwt) == JWT_ALG_HS256;
	jwt_free(jwt);
	return ok;
}

struct PerSocketData {};

static void on_signal(int) { _exit(0); }

template <bool SSL>
static typename uWS::TemplatedApp<SSL>::template WebSocketBehavior<PerSocketData> behavior()
{
	return {
		.compression = uWS::DISABLED,
		.maxPayloadLength = 64 * 1024,
		.idleTimeout = 0,                 /* no idle timeout, so no automatic pings either */
		.maxBackpressure = 64 * 1024,     /* uWS default; sends beyond it are dropped, not closed */
		.closeOnBackpressureLimit = false,
		.resetIdleTimeoutOnSend = false,
		.sendPingsAutomatically = false,
		.upgrade = [](auto *res, auto *req, auto *context) {
			if (!authorized(req->getHeader("authorization"))) {
				res->writeStatus("401 Unauthorized")
				    ->writeHeader("WWW-Authenticate", "Bearer")
				    ->end("unauthorized\n", true);
				return;
			}
			/* as the uWS examples: uWS picks the first offered subprotocol (caller-sim
			 * offers none) and never negotiates extensions with compression DISABLED */
			res->template upgrade<PerSocketData>({}, req->getHeader("sec-websocket-key"),
							     req->getHeader("sec-websocket-protocol"),
							     req->getHeader("sec-websocket-extensions"), context);
		},
		.message = [](auto *ws, std::string_view message, uWS::OpCode opCode) {
			if (opCode == uWS::OpCode::BINARY)   /* text = Vonage JSON events: ignored */
				ws->send(message, opCode, false);
		},
	};
}

template <bool SSL>
static void run(uWS::TemplatedApp<SSL> &&app, int port)
{
	app.template ws<PerSocketData>("/socket", behavior<SSL>())
	    .template ws<PerSocketData>("/*", behavior<SSL>())
	    .listen("127.0.0.1", port, [port](auto *ls) {
		    if (!ls) {
			    fprintf(stderr, "uws-echo: cannot listen on 127.0.0.1:%d\n", port);
			    exit(1);
		    }
		    fprintf(stderr, "uws-echo: listening on 127.0.0.1:%d (%s)\n", port, SSL ? "wss" : "ws");
	    })
	    .run();
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: uws-echo PORT SECRET_FILE [CERT KEY]\n");
		return 2;
	}
	int port = atoi(argv[1]);
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "uws-echo: bad port '%s'\n", argv[1]);
		return 2;
	}
	if (!read_secret(argv[2], g_secret) || g_secret.empty()) {
		/* libjwt treats an empty key as "skip the signature check": never run with one */
		fprintf(stderr, "uws-echo: secret file '%s': unreadable, empty or over 4095 bytes\n", argv[2]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 5) {
		uWS::SSLApp app({.key_file_name = argv[4], .cert_file_name = argv[3]});
		if (app.constructorFailed()) {
			fprintf(stderr, "uws-echo: TLS setup failed (cert '%s', key '%s')\n", argv[3], argv[4]);
			return 1;
		}
		run<true>(std::move(app), port);
	} else {
		run<false>(uWS::App(), port);
	}
	return 0;
}
