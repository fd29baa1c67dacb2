/*
 * main.cpp -- caller-echo: parse the config, run the server, exit cleanly.
 *
 * Signals (README "Signals", docs/operations.md): no signal an operator may
 * send in good faith ends the calls without a close frame.
 *   SIGTERM, SIGQUIT  drain (no new connections; open calls go on until they
 *                     end or --drain-timeout); a second one, or SIGINT, stops
 *                     at once (calls get 1001)
 *   SIGHUP            reloads the TLS certificate and key (server.cpp)
 *   SIGUSR1, SIGUSR2  one status line in the log (calls open, serving or
 *                     draining, connections, the open-file limit)
 *   SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGSTKFLT, SIGXFSZ, SIGTTIN,
 *   SIGTTOU, SIGRTMIN..SIGRTMAX   ignored, with one line in the log saying so
 *   SIGPIPE           ignored (a write to a closed socket is an error return)
 *   SIGTSTP, SIGCONT, SIGWINCH, SIGCHLD, SIGURG  the defaults: a stop and a
 *                     resume (the tick then restarts the calls' idle clocks),
 *                     nothing for the rest
 * A signal other than INT, TERM, HUP and PIPE whose handler was installed
 * before main() (an LD_PRELOAD library's, as the tests' allocation counter
 * installs for SIGUSR2) or that the parent set to be ignored is left as it is.
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

/* 1: drain (the first SIGTERM or SIGQUIT); 2: stop now (SIGINT, or either again) */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		server_request_reload();   /* TLS certificate renewal; calls go on */
	else if (sig == SIGINT || ((sig == SIGTERM || sig == SIGQUIT) && stop))
		stop = 2;
	else if (sig == SIGTERM || sig == SIGQUIT)
		stop = 1;
	else
		server_note_signal(sig);   /* the tick logs it (SIGUSR1/2: the status line) */
}

/*
 * Install on_signal for sig unless someone installed a handler of their own
 * before us (a preloaded library: the tests' allocation counter), or the
 * parent asked for it to be ignored (then it cannot end the process
 * either); 1 if installed.
 */
static int take_signal(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old))
		return 0;   /* not a signal this kernel (or valgrind) lets us have */
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL)
		return !sigaction(sig, sa, NULL);
	if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_IGN)
		log_info("signal %s: keeping the handler installed before the server started",
			 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
	return 0;
}

static void install_signals(void)
{
	/* signals the operator may send and that would otherwise end the process */
	static const int noted[] = { SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
				     SIGSTKFLT, SIGXFSZ, SIGTTIN, SIGTTOU };
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART for the stop signals: poll returns and the loop looks at once */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* even when the parent ignores it (a shell does for a background job):
	 * an operator who sends it means "drain" */
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* the rest restart what they interrupt: a status request must not fail a read */
	sa.sa_flags = SA_RESTART;
	for (size_t i = 0; i < sizeof noted / sizeof noted[0]; i++)
		take_signal(noted[i], &sa);
	for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
		take_signal(sig, &sa);
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
	static struct server srv;
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
	for (int k = 0; k < 2; k++) {
		const char *name = k ? "admin-token" : "stats-token", *env = k ? "ADMIN_TOKEN" : "STATS_TOKEN";
		if (cfg.tokens_in_argv & (k ? CONFIG_ARGV_ADMIN_TOKEN : CONFIG_ARGV_STATS_TOKEN))
			log_warn("--%s was given on the command line, where every local user can read it (ps, "
				 "/proc/PID/cmdline; blanked there now, but it was there at start): use --%s-file FILE "
				 "or %s in the environment", name, name, env);
	}
	config_scrub_argv(argc, argv);

	install_signals();
	set_fd_limit(cfg.max_calls);
	int rc = server_create(&srv, &cfg);
	if (rc)
		return rc == SERVER_BAD_CONFIG ? 2 : 1;
	server_run(&srv, &stop);
	server_destroy(&srv);
	log_info_ev("stopped", "stopped");
	return 0;
}
