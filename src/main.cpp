/*
 * main.cpp -- caller-echo: parse the config, run the server, exit cleanly.
 *
 * SIGHUP reloads the TLS certificate and key (server.cpp) without a restart.
 * SIGTERM drains (no new connections; open calls go on until they end or
 * --drain-timeout), a second SIGTERM or SIGINT stops at once (calls get 1001).
 * Exit status: 0 after a clean shutdown (SIGINT/SIGTERM), 1 if the server
 * could not start, 2 for a bad option, a missing secret, a state file
 * refused at start (someone else could write it, or it is not whole), or
 * what only trying shows (Redis refused the password or the certificate).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "config.h"
#include "log.h"
#include "server.h"

/* 1: drain (the first SIGTERM); 2: stop now (SIGINT, or SIGTERM again) */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		server_request_reload();   /* TLS certificate renewal; calls go on */
	else if (sig == SIGINT || stop)
		stop = 2;
	else
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
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * One socket per call plus slack. lws sizes its fd tables from this limit,
 * so it is set to exactly that (raised, or lowered from a huge default):
 * memory stays proportional to --max-calls.
 */
static void set_fd_limit(int max_calls)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_calls + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur < want)
		log_warn("open-file limit %llu is below --max-calls + 256", (unsigned long long)rl.rlim_cur);
}

int main(int argc, char **argv)
{
	static struct config cfg;   /* static: holds the secret, keep it off the stack */
	static struct app app;
	char err[512];

	switch (config_load(&cfg, argc, argv, err, sizeof err)) {
	case CONFIG_HELP:
		fputs(config_usage(), stdout);
		return 0;
	case CONFIG_HELP_MARKDOWN:
		fputs(config_markdown(), stdout);
		return 0;
	case CONFIG_ERR:
		fprintf(stderr, "caller-echo: %s\n", err);
		return 2;
	default:
		break;
	}
	log_threshold = cfg.log_level;
	log_format = cfg.log_format;
	log_set_tag(cfg.worker_id);
	if (cfg.secret_len < 32)
		log_warn("the signature secret is only %zu bytes; use at least 32 random bytes", cfg.secret_len);

	install_signals();
	set_fd_limit(cfg.max_calls);
	int rc = server_create(&app, &cfg);
	if (rc)
		return rc == SERVER_BAD_CONFIG ? 2 : 1;
	server_run(&app, &stop);
	server_destroy(&app);
	log_info_ev("stopped", "stopped");
	return 0;
}
