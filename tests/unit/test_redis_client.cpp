/*
 * test_redis_client.cpp -- unit tests for src/redis_client.cpp.
 *
 * The replies: every answer the replay store may take (+OK, nil, +PONG)
 * and a long list it must not (issue 19 finding 5: an integer, an empty
 * array, +QUEUED, a bulk string, -ERR, RESP3 types, a nil array, a huge
 * array header that must not allocate), whole, a byte at a time, and two
 * at once. The connection: a scripted fake Redis on loopback (a thread)
 * that trickles a reply a byte at a time, streams an endless bulk reply,
 * answers late, sends a reply nobody asked for, closes an idle connection,
 * or checks that AUTH goes ahead of the command. TLS and the real
 * redis-server are in tests/integration/test_attack_redis.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
extern "C" {   /* cmocka 1.1.5's header has no C++ guard */
#include <cmocka.h>
}

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "redis_client.h"

/* ---- replies ------------------------------------------------------------- */

static int judge_bytes(const char *bytes, size_t len, enum redis_expect e, char *why, size_t cap)
{
	struct redis_replies p;
	assert_int_equal(redis_replies_init(&p), 0);
	assert_int_equal(redis_replies_feed(&p, bytes, len), 0);
	int r = redis_replies_next(&p, e, why, cap);
	redis_replies_free(&p);
	return r;
}

#define JUDGE(lit, e) judge_bytes(lit, sizeof lit - 1, e, why, sizeof why)

static void test_redis_replies_takes_only_the_expected_answers(void **state)
{
	(void)state;
	char why[REDIS_CLIENT_WHY];

	assert_int_equal(JUDGE("+OK\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_OK);
	assert_int_equal(JUDGE("$-1\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_NIL);
	assert_int_equal(JUDGE("+OK\r\n", REDIS_EXPECT_AUTH), REDIS_CLIENT_OK);
	assert_int_equal(JUDGE("+OK\r\n", REDIS_EXPECT_OK), REDIS_CLIENT_OK);
	assert_int_equal(JUDGE("+PONG\r\n", REDIS_EXPECT_PONG), REDIS_CLIENT_OK);
	/* right words for another command */
	assert_int_equal(JUDGE("+PONG\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_UNEXPECTED);
	assert_int_equal(JUDGE("+OK\r\n", REDIS_EXPECT_PONG), REDIS_CLIENT_UNEXPECTED);
	assert_int_equal(JUDGE("$-1\r\n", REDIS_EXPECT_AUTH), REDIS_CLIENT_UNEXPECTED);
	assert_int_equal(JUDGE("$-1\r\n", REDIS_EXPECT_PONG), REDIS_CLIENT_UNEXPECTED);
}

/* issue 19 finding 5: any reply but nil used to count as "new" */
static void test_redis_replies_refuses_every_other_reply_to_set_nx(void **state)
{
	(void)state;
	char why[REDIS_CLIENT_WHY];
	static const struct { const char *bytes; const char *why; } bad[] = {
		{ ":1\r\n", "an integer reply (1)" },
		{ ":0\r\n", "an integer reply (0)" },
		{ "*0\r\n", "an array of 0 elements" },
		{ "*1\r\n+OK\r\n", "an array of 1 elements" },
		{ "*2\r\n$1\r\na\r\n:1\r\n", "an array of 2 elements" },
		{ "*-1\r\n", "a nil array" },
		{ "+QUEUED\r\n", "a status reply 'QUEUED'" },
		{ "+OKAY\r\n", "a status reply 'OKAY'" },
		{ "+ok\r\n", "a status reply 'ok'" },
		{ "+\r\n", "a status reply ''" },
		{ "$1\r\n1\r\n", "a bulk string of 1 bytes" },
		{ "$2\r\nOK\r\n", "a bulk string of 2 bytes" },
		{ "$0\r\n\r\n", "a bulk string of 0 bytes" },
		{ "-ERR unknown command\r\n", "an error reply 'ERR unknown command'" },
		{ "-OK\r\n", "an error reply 'OK'" },
		/* RESP3 types: hiredis 0.14 does not know them, so neither do we */
		{ "_\r\n", "not a RESP2 reply" },
		{ "#t\r\n", "not a RESP2 reply" },
		{ ",1.5\r\n", "not a RESP2 reply" },
		{ "%1\r\n+a\r\n+b\r\n", "not a RESP2 reply" },
		{ "~0\r\n", "not a RESP2 reply" },
		{ ">2\r\n+a\r\n+b\r\n", "not a RESP2 reply" },
		{ "(123\r\n", "not a RESP2 reply" },
		{ "OK\r\n", "not a RESP2 reply" },
		{ ":x\r\n", "not a RESP2 reply" },
		{ "$x\r\n", "not a RESP2 reply" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		int r = judge_bytes(bad[i].bytes, strlen(bad[i].bytes), REDIS_EXPECT_SET_NX, why, sizeof why);
		if (r != REDIS_CLIENT_UNEXPECTED || !strstr(why, bad[i].why))
			fail_msg("reply %zu (%s): %s, why '%s', want unexpected '%s'", i, bad[i].bytes,
				 redis_client_result_str(r), why, bad[i].why);
	}
}

static void test_redis_replies_auth_refusals(void **state)
{
	(void)state;
	char why[REDIS_CLIENT_WHY];

	assert_int_equal(JUDGE("-WRONGPASS invalid username-password pair\r\n", REDIS_EXPECT_AUTH), REDIS_CLIENT_AUTH);
	assert_non_null(strstr(why, "AUTH refused: 'WRONGPASS"));
	/* any error to AUTH: e.g. no password configured on that Redis */
	assert_int_equal(JUDGE("-ERR AUTH called without any password configured\r\n", REDIS_EXPECT_AUTH),
			 REDIS_CLIENT_AUTH);
	/* a Redis that wants one we did not give, or a user without the right */
	assert_int_equal(JUDGE("-NOAUTH Authentication required.\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_AUTH);
	assert_int_equal(JUDGE("-NOPERM this user has no permissions\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_AUTH);
	assert_int_equal(JUDGE("-NOAUTH\r\n", REDIS_EXPECT_PONG), REDIS_CLIENT_AUTH);
	/* a word that merely starts the same is not one */
	assert_int_equal(JUDGE("-NOAUTHX\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_UNEXPECTED);
}

/* A "*N" header claims N elements; hiredis's own objects would calloc N
 * pointers (16 GiB here, an ASan abort). Ours allocate nothing. */
static void test_redis_replies_huge_array_header_allocates_nothing(void **state)
{
	(void)state;
	char why[REDIS_CLIENT_WHY];
	struct redis_replies p;

	assert_int_equal(redis_replies_init(&p), 0);
	assert_int_equal(redis_replies_feed(&p, "*2147483647\r\n:1\r\n", 17), 0);
	assert_int_equal(redis_replies_next(&p, REDIS_EXPECT_SET_NX, why, sizeof why), REDIS_CLIENT_PARTIAL);
	redis_replies_free(&p);
	assert_int_equal(JUDGE("*9223372036854775807\r\n", REDIS_EXPECT_SET_NX), REDIS_CLIENT_UNEXPECTED);
	/* nesting past hiredis's stack is a protocol error, not a crash */
	assert_int_equal(JUDGE("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", REDIS_EXPECT_SET_NX),
			 REDIS_CLIENT_UNEXPECTED);
	/* a status word longer than what is kept is judged by its length too */
	assert_int_equal(JUDGE("+OKOKOKOKOKOKOKOKOKOKOKOKOKOKOKOKOKOKOKOK\r\n", REDIS_EXPECT_SET_NX),
			 REDIS_CLIENT_UNEXPECTED);
}

static void test_redis_replies_a_byte_at_a_time(void **state)
{
	(void)state;
	static const char *const whole[] = { "+OK\r\n", "$-1\r\n", ":12345\r\n", "$5\r\nhello\r\n",
					     "*2\r\n$1\r\na\r\n$1\r\nb\r\n" };
	static const int want[] = { REDIS_CLIENT_OK, REDIS_CLIENT_NIL, REDIS_CLIENT_UNEXPECTED, REDIS_CLIENT_UNEXPECTED,
				    REDIS_CLIENT_UNEXPECTED };
	for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
		struct redis_replies p;
		size_t n = strlen(whole[i]);
		assert_int_equal(redis_replies_init(&p), 0);
		for (size_t k = 0; k < n; k++) {
			assert_int_equal(redis_replies_feed(&p, whole[i] + k, 1), 0);
			int r = redis_replies_next(&p, REDIS_EXPECT_SET_NX, NULL, 0);
			assert_int_equal(r, k + 1 < n ? REDIS_CLIENT_PARTIAL : want[i]);
		}
		assert_int_equal(redis_replies_pending(&p), 0);
		redis_replies_free(&p);
	}
}

static void test_redis_replies_two_at_once_leave_one_pending(void **state)
{
	(void)state;
	struct redis_replies p;

	assert_int_equal(redis_replies_init(&p), 0);
	assert_int_equal(redis_replies_feed(&p, "+OK\r\n$-1\r\n", 10), 0);
	assert_int_equal(redis_replies_next(&p, REDIS_EXPECT_AUTH, NULL, 0), REDIS_CLIENT_OK);
	assert_int_equal(redis_replies_pending(&p), 5);
	assert_int_equal(redis_replies_next(&p, REDIS_EXPECT_SET_NX, NULL, 0), REDIS_CLIENT_NIL);
	assert_int_equal(redis_replies_pending(&p), 0);
	assert_int_equal(redis_replies_next(&p, REDIS_EXPECT_SET_NX, NULL, 0), REDIS_CLIENT_PARTIAL);
	redis_replies_free(&p);
}

/* ---- a scripted fake Redis ------------------------------------------------- */

#define FAKE_CONNS 4

/* What the fake does on its n-th connection, after reading the command(s). */
struct fake_conn {
	const char *reply;       /* sent whole (NULL: nothing) */
	int         delay_ms;    /* before the reply */
	int         trickle_ms;  /* > 0: the reply a byte at a time, this far apart */
	size_t      endless;     /* > 0: "$<endless>\r\n" then that many bytes, 64 KiB at a time */
	const char *then;        /* sent 30 ms after the reply, unasked (a late or stray reply) */
	int         close_after; /* close at once after replying (else: wait for the client to close) */
};

struct fake {
	int lfd, port;
	struct fake_conn conn[FAKE_CONNS];
	int nconn;               /* connections to serve */
	char got[FAKE_CONNS][1024];   /* what each connection sent first */
	size_t got_len[FAKE_CONNS];
	int served;
	pthread_t thread;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Read what the client sends until it pauses for 30 ms (AUTH and the
 * command come together). */
static size_t read_request(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	struct pollfd p = { fd, POLLIN, 0 };
	int wait = 2000;

	while (n < cap && poll(&p, 1, wait) > 0) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		wait = 30;
	}
	return n;
}

static int send_bytes(int fd, const char *b, size_t len)
{
	return send(fd, b, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static void *fake_main(void *arg)
{
	struct fake *f = (struct fake *)arg;

	for (int i = 0; i < f->nconn; i++) {
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			break;
		const struct fake_conn *c = &f->conn[i];
		f->got_len[i] = read_request(fd, f->got[i], sizeof f->got[i] - 1);
		f->served = i + 1;
		if (c->delay_ms)
			sleep_ms(c->delay_ms);
		if (c->endless) {
			char head[32], chunk[65536];
			memset(chunk, 'x', sizeof chunk);
			snprintf(head, sizeof head, "$%zu\r\n", c->endless);
			if (!send_bytes(fd, head, strlen(head)))
				for (size_t sent = 0; sent < c->endless; sent += sizeof chunk)
					if (send_bytes(fd, chunk, sizeof chunk))
						break;
		} else if (c->reply && c->trickle_ms) {
			for (const char *p = c->reply; *p; p++) {
				if (send_bytes(fd, p, 1))
					break;
				sleep_ms(c->trickle_ms);
			}
		} else if (c->reply) {
			send_bytes(fd, c->reply, strlen(c->reply));
		}
		if (c->then) {
			sleep_ms(30);
			send_bytes(fd, c->then, strlen(c->then));
		}
		if (!c->close_after) {
			char sink[4096];
			struct pollfd p = { fd, POLLIN, 0 };
			/* until the client hangs up (bounded: the test is over by then) */
			while (poll(&p, 1, 3000) > 0 && read(fd, sink, sizeof sink) > 0)
				;
		}
		close(fd);
	}
	return NULL;
}

static int setup_fake(void **state)
{
	struct fake *f = (struct fake *)calloc(1, sizeof *f);
	struct sockaddr_in a;
	socklen_t alen = sizeof a;

	if (!f)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) || listen(f->lfd, 8) ||
	    getsockname(f->lfd, (struct sockaddr *)&a, &alen)) {
		free(f);
		return -1;
	}
	f->port = ntohs(a.sin_port);
	*state = f;
	return 0;
}

static int teardown_fake(void **state)
{
	struct fake *f = (struct fake *)*state;
	shutdown(f->lfd, SHUT_RDWR);   /* an accept still waiting returns */
	pthread_join(f->thread, NULL);
	close(f->lfd);
	free(f);
	return 0;
}

static void start_fake(struct fake *f, int nconn)
{
	f->nconn = nconn;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void client_for(struct redis_client *c, const struct fake *f, const char *password)
{
	struct sockaddr_in a;
	struct redis_client_opts o = { 0, NULL, NULL, password, password ? strlen(password) : 0 };
	char err[128];

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)f->port);
	assert_int_equal(redis_client_init(c, "127.0.0.1", (struct sockaddr *)&a, sizeof a, &o, err, sizeof err), 0);
}

/* SET with a deadline ms from now; *took_ms how long it held us */
static int set_nx(struct redis_client *c, int ms, int *took_ms)
{
	char *cmd = NULL;
	int n = redisFormatCommand(&cmd, "SET caller-echo:jti:%s 1 NX EX %d", "abc", 300);
	assert_true(n > 0);
	uint64_t t0 = clock_mono_us();
	int r = redis_client_command(c, cmd, (size_t)n, REDIS_EXPECT_SET_NX, t0 + (uint64_t)ms * 1000u);
	if (took_ms)
		*took_ms = (int)((clock_mono_us() - t0) / 1000);
	redisFreeCommand(cmd);
	return r;
}

static void test_redis_client_answers(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n";
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OK);
	assert_true(redis_client_connected(&c));
	assert_int_equal(c.connects, 1);
	assert_non_null(strstr(f->got[0], "SET"));
	redis_client_free(&c);
}

/* issue 19 finding 5: a reply trickled a byte at a time held the loop for
 * seconds (each read() was bounded, the round trip was not) */
static void test_redis_client_trickled_reply_ends_at_the_deadline(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;
	int took;

	/* 40 bytes, one per 50 ms: 2 s, every byte well within any read timeout */
	f->conn[0].reply = "$30\r\n012345678901234567890123456789\r\n";
	f->conn[0].trickle_ms = 50;
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 200, &took), REDIS_CLIENT_TIMEOUT);
	assert_true(took >= 195);
	assert_true(took < 1000);   /* 200 ms and scheduling, not 2 s */
	assert_false(redis_client_connected(&c));
	assert_non_null(strstr(c.why, "within the timeout"));
	redis_client_free(&c);
}

/* ... and even the right answer, after the deadline, is not taken */
static void test_redis_client_slow_ok_is_a_timeout(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n";
	f->conn[0].trickle_ms = 80;
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 150, NULL), REDIS_CLIENT_TIMEOUT);
	redis_client_free(&c);
}

/* issue 19 finding 5: a 200 MB bulk reply raised RSS by 200 MB */
static void test_redis_client_endless_reply_is_cut_at_the_limit(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].endless = 200u << 20;
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OVERSIZED);
	assert_true(c.rx <= REDIS_CLIENT_REPLY_MAX + 1);
	assert_false(redis_client_connected(&c));
	redis_client_free(&c);
}

/* The reply to a timed-out command, arriving late, must never be read as
 * the answer to the next one: the timed-out connection is dropped. */
static void test_redis_client_late_reply_is_not_the_next_answer(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n";
	f->conn[0].delay_ms = 300;
	f->conn[1].reply = "$-1\r\n";
	start_fake(f, 2);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 100, NULL), REDIS_CLIENT_TIMEOUT);
	assert_false(redis_client_connected(&c));
	sleep_ms(400);   /* the late +OK has been sent by now */
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_NIL);
	assert_int_equal(c.connects, 2);
	redis_client_free(&c);
}

/* A reply nobody asked for, waiting on an idle connection, is not taken
 * for the next command's answer either: the connection is replaced. */
static void test_redis_client_stray_reply_replaces_the_connection(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n";
	f->conn[0].then = "+OK\r\n";
	f->conn[1].reply = "$-1\r\n";
	start_fake(f, 2);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OK);
	sleep_ms(150);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_NIL);
	assert_int_equal(c.connects, 2);
	redis_client_free(&c);
}

/* Two replies to one command: the second would answer the next command. */
static void test_redis_client_bytes_after_the_reply(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "$-1\r\n+OK\r\n";
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_UNEXPECTED);
	assert_non_null(strstr(c.why, "bytes after the reply"));
	assert_false(redis_client_connected(&c));
	redis_client_free(&c);
}

static void test_redis_client_unexpected_reply_drops_the_connection(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+QUEUED\r\n";
	start_fake(f, 1);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_UNEXPECTED);
	assert_false(redis_client_connected(&c));
	redis_client_free(&c);
}

/* Redis closing an idle connection (a restart, its timeout) costs a
 * reconnect inside the same exchange, not a refusal. */
static void test_redis_client_idle_close_reconnects(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n";
	f->conn[0].close_after = 1;
	f->conn[1].reply = "+OK\r\n";
	start_fake(f, 2);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OK);
	sleep_ms(100);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OK);
	assert_int_equal(c.connects, 2);
	redis_client_free(&c);
}

/* AUTH goes first, in the same round trip; its refusal is AUTH, not the
 * command's -NOAUTH; and the password is nowhere in why. */
static void test_redis_client_auth_first(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	f->conn[0].reply = "+OK\r\n+OK\r\n";
	f->conn[1].reply = "-WRONGPASS invalid username-password pair\r\n-NOAUTH Authentication required.\r\n";
	start_fake(f, 2);
	client_for(&c, f, "s3cr3t-pw");
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_OK);
	f->got[0][f->got_len[0]] = '\0';
	assert_memory_equal(f->got[0], "*2\r\n$4\r\nAUTH\r\n$9\r\ns3cr3t-pw\r\n*", 30);
	assert_non_null(strstr(f->got[0] + 29, "SET"));
	/* a new connection authenticates again, and is refused */
	redis_client_close(&c);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_AUTH);
	assert_non_null(strstr(c.why, "WRONGPASS"));
	assert_null(strstr(c.why, "s3cr3t"));
	redis_client_free(&c);
	assert_null(c.auth_cmd);
}

static void test_redis_client_refused_and_unreachable(void **state)
{
	struct fake *f = (struct fake *)*state;
	struct redis_client c;

	close(f->lfd);   /* nobody listens on the port now */
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	f->nconn = 0;
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	client_for(&c, f, NULL);
	assert_int_equal(set_nx(&c, 2000, NULL), REDIS_CLIENT_CONNECTION);
	assert_non_null(strstr(c.why, "connect"));
	redis_client_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redis_replies_takes_only_the_expected_answers),
		cmocka_unit_test(test_redis_replies_refuses_every_other_reply_to_set_nx),
		cmocka_unit_test(test_redis_replies_auth_refusals),
		cmocka_unit_test(test_redis_replies_huge_array_header_allocates_nothing),
		cmocka_unit_test(test_redis_replies_a_byte_at_a_time),
		cmocka_unit_test(test_redis_replies_two_at_once_leave_one_pending),
		cmocka_unit_test_setup_teardown(test_redis_client_answers, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_trickled_reply_ends_at_the_deadline, setup_fake,
						teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_slow_ok_is_a_timeout, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_endless_reply_is_cut_at_the_limit, setup_fake,
						teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_late_reply_is_not_the_next_answer, setup_fake,
						teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_stray_reply_replaces_the_connection, setup_fake,
						teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_bytes_after_the_reply, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_unexpected_reply_drops_the_connection, setup_fake,
						teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_idle_close_reconnects, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_auth_first, setup_fake, teardown_fake),
		cmocka_unit_test_setup_teardown(test_redis_client_refused_and_unreachable, setup_fake, teardown_fake),
	};
	return cmocka_run_group_tests_name("redis_client", tests, NULL, NULL);
}
