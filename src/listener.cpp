/*
 * listener.cpp -- see listener.h.
 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "server_state.h"
#include "peer.h"

/*
 * --reuse-port: a listening socket several processes can bind at once; the
 * kernel spreads new connections over them. Same address rules as lws:
 * all IPv4 interfaces by default, else the literal address given.
 */
static int open_socket(const struct config *cfg, int port, int shared)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (!cfg->listen[0] || inet_pton(AF_INET, cfg->listen, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		sl = sizeof *a4;
	} else if (inet_pton(AF_INET6, cfg->listen, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		sl = sizeof *a6;
	} else {
		log_err("--reuse-port needs --listen to be an IP address, not '%s'", cfg->listen);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, SOMAXCONN)) {
		log_err("cannot listen on %s:%d%s: %s%s", cfg->listen[0] ? cfg->listen : "*", port,
			shared ? " with SO_REUSEPORT" : "", strerror(errno),
			shared ? " (a process without --reuse-port holds the port?)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * One of our listening sockets is readable: accept what is queued (bounded per
 * wakeup, like lws's own listener), let the http protocol filter it as lws
 * would, and adopt each as an HTTP(S) server connection of the vhost.
 */
int listener_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	if (reason != LWS_CALLBACK_RAW_RX_FILE)
		return 0;
	struct server *srv = server_from_wsi(wsi);
	int lfd = lws_get_socket_fd(wsi);   /* the raw descriptor: shared or worker port */
	for (int i = 0; i < 64; i++) {
		struct lws_filter_network_conn_args filt;
		lws_sock_file_fd_type d;
		int one = 1;

		memset(&filt, 0, sizeof filt);
		filt.clilen = sizeof filt.cli_addr;
		filt.accept_fd = accept4(lfd, (struct sockaddr *)&filt.cli_addr, &filt.clilen,
					 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (filt.accept_fd < 0) {
			int e = errno;
			if (e != EAGAIN && e != EWOULDBLOCK && e != EINTR && e != ECONNABORTED)
				log_limited(&srv->bad_input_log, clock_wall_s(), "accept: %s", strerror(e));
			if (e == EMFILE || e == ENFILE)
				listener_shed(srv, lfd);   /* else it stays readable and we spin */
			break;
		}
		setsockopt(filt.accept_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (peer_conn_filter(srv, &filt)) {
			close(filt.accept_fd);
			continue;
		}
		d.sockfd = filt.accept_fd;
		/* on failure lws has closed the socket already */
		lws_adopt_descriptor_vhost(srv->vhost, (lws_adoption_type)(LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP |
					   LWS_ADOPT_ALLOW_SSL), d, NULL, NULL);
	}
	return 0;
}

/* ---- out of descriptors ----------------------------------------------------- */

void listener_spare_open(struct server *srv)
{
	srv->listen.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (srv->listen.spare_fd < 0)
		log_warn("no spare descriptor (/dev/null: %s): out of descriptors, a queued connection would make "
			 "the loop spin", strerror(errno));
}

void listener_spare_close(struct server *srv)
{
	if (srv->listen.spare_fd >= 0)
		close(srv->listen.spare_fd);
	srv->listen.spare_fd = -1;
}

/* lws does not say which socket it listens on: the one bound to our port, in listen state. */
void listener_find_lws_socket(struct server *srv)
{
	srv->listen.lws_fd = -1;
	if (srv->listen.fd >= 0 || !srv->vhost)
		return;   /* --reuse-port: lws has no listener of its own */
	int port = lws_get_vhost_listen_port(srv->vhost);
	for (int fd = 0; fd < 1024; fd++) {   /* lws opened it moments ago: a low number */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		int on = 0;
		socklen_t ol = sizeof on;
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) || !on ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl))
			continue;
		int p = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
			: ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) : -1;
		if (p == port) {
			srv->listen.lws_fd = fd;
			return;
		}
	}
	log_warn("cannot find lws's listening socket: out of descriptors, a queued connection would make the "
		 "loop spin");
}

int listener_shed(struct server *srv, int lfd)
{
	int n = 0;

	if (lfd < 0)
		return 0;
	/* the spare's number is below the limit (it was taken at start): the
	 * accept gets it, and gets it again after each close */
	listener_spare_close(srv);
	for (; n < 1024; n++) {   /* bounded per wakeup, like an accept loop */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct addr a;
		char peer[ADDR_STR_MAX];
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;   /* drained (EAGAIN), or not even the spare helps */
		close(fd);
		int have = !addr_from_sockaddr((const struct sockaddr *)&ss, &a);
		peer_refused(srv, have ? &a : NULL, REJECT_CONNS_FULL);
		if (have)
			addr_format(&a, peer, sizeof peer);
		const struct log_field lf[] = { LOG_STR("remote", have ? peer : "?"), LOG_STR("reason", "conns_full") };
		peer_log(srv, &srv->reject_log, have ? &a : NULL, lf, sizeof lf / sizeof lf[0],
			 "refused connection from %s: conns_full (no descriptor free: closed at accept)", have ? peer : "?");
	}
	srv->listen.spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (srv->listen.spare_fd < 0)
		log_limited(&srv->bad_input_log, clock_wall_s(), "no spare descriptor any more (%s): the open-file limit "
			    "is below it", strerror(errno));
	return n;
}

void listener_lws_accept_failed(struct server *srv, int err)
{
	if (srv && (err == EMFILE || err == ENFILE))
		listener_shed(srv, srv->listen.lws_fd);
}

/* Put a listening socket of ours into lws's loop (any event library) as a raw descriptor. */
static struct lws *adopt(struct server *srv, int fd)
{
	lws_sock_file_fd_type d;
	struct lws *wsi;

	d.filefd = fd;
	wsi = lws_adopt_descriptor_vhost(srv->vhost, LWS_ADOPT_RAW_FILE_DESC, d, "listener", NULL);
	if (!wsi)
		log_err("cannot watch the listening socket");
	return wsi;
}

void listener_close(struct server *srv)
{
	if (srv->listen.fd >= 0)
		close(srv->listen.fd);
	if (srv->listen.worker_fd >= 0)
		close(srv->listen.worker_fd);
	srv->listen.fd = srv->listen.worker_fd = -1;
}

/*
 * A swap (README "Restarts and upgrades") closes the old process's shared
 * socket; connections the kernel had queued on it but the old process had
 * not accepted are reset then -- unless net.ipv4.tcp_migrate_req moves them
 * to another socket on the port (Linux 5.14+; Debian 12 has 6.1).
 */
static void check_migrate(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_migrate_req", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	if (v == 0)
		log_warn("net.ipv4.tcp_migrate_req is 0: when this process drains, connections still queued on the "
			 "shared port are reset instead of moving to the other processes (make install adds "
			 "/etc/sysctl.d/60-caller-echo.conf setting it to 1)");
}

int listener_open(struct server *srv)
{
	const struct config *cfg = srv->cfg;

	check_migrate();
	srv->listen.fd = open_socket(cfg, cfg->port, 1);
	if (srv->listen.fd >= 0 && cfg->worker_port)
		srv->listen.worker_fd = open_socket(cfg, cfg->worker_port, 0);
	if (srv->listen.fd < 0 || (cfg->worker_port && srv->listen.worker_fd < 0)) {
		listener_close(srv);
		return -1;
	}
	return 0;
}

int listener_attach(struct server *srv)
{
	/* a descriptor lws adopted is closed by the context destroy */
	if (!(srv->listen.wsi = adopt(srv, srv->listen.fd)))
		return -1;
	if (srv->listen.worker_fd >= 0 && !adopt(srv, srv->listen.worker_fd))
		return -1;
	return 0;
}

void listener_leave(struct server *srv)
{
	if (!srv->listen.wsi)
		return;
	/*
	 * Leave the SO_REUSEPORT group now, not at exit: the kernel then gives
	 * new connections to the other workers instead of to us, who would
	 * refuse them (503) for the whole grace period. lws closes the
	 * descriptor with its wsi.
	 */
	lws_set_timeout(srv->listen.wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	srv->listen.wsi = NULL;
	srv->listen.fd = -1;
	log_info("left the shared port: new connections go to the other workers");
}

