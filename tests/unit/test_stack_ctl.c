/*
 * test_stack_ctl.c - watching a running stack: the control channel (us_stack_ctl_open) read by the
 * built ustack-stat and by a client here, on a threaded stack and on a driven one; its socket file
 * (a stale socket replaced, anything else refused, removed at the end); clients that never finish
 * (dropped after their time, never in the way of others; more than eight turned away); dumps asked
 * for as a signal handler asks (us_stack_request_dump) and every N seconds of stack time.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"
#include "ustack/latency.h"
#include "ustack/socket.h"

#ifndef USTACK_STAT_BIN
#error "USTACK_STAT_BIN: the path of the built ustack-stat"
#endif

extern char **environ;

static char dir[64], path[128];

static void dir_up(void)
{
	strcpy(dir, "/tmp/ustack-ctl-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
}

static void dir_down(void)
{
	struct stat sb;

	/* the stack took its socket file with it */
	ck_assert_int_eq(lstat(path, &sb), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(rmdir(dir), 0);
}

/* A stack of its own (clock: NULL for the monotonic one) with a TCP listener on 0.0.0.0:6000
 * (backlog 16) and a UDP socket on 0.0.0.0:6001; their descriptors in *lfd, *ufd. */
static struct us_stack *stack_up(struct us_clock *clock, int *lfd, int *ufd)
{
	struct us_stack_config cfg = { .clock = clock, .seed = 7 };
	struct us_stack *st = us_stack_create(&cfg);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(6000) };

	ck_assert_ptr_nonnull(st);
	*lfd = us_socket_on(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_eq(us_bind(*lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(us_listen(*lfd, 16), 0);
	*ufd = us_socket_on(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(6001);
	ck_assert_int_eq(us_bind(*ufd, (struct sockaddr *)&a, sizeof(a)), 0);
	return st;
}

static void stack_down(struct us_stack *st, int lfd, int ufd)
{
	us_close(lfd);
	us_close(ufd);
	ck_assert_uint_eq(us_stack_destroy(st), 0);
}

/* A client of the channel, connected (non-blocking). */
static int ctl_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Append what fd has now to *buf; true at EOF. */
static bool drain(int fd, char **buf, size_t *len)
{
	char tmp[4096];

	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));

		if (n == 0)
			return true;
		if (n < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			return false;
		}
		*buf = realloc(*buf, *len + (size_t)n + 1);
		ck_assert_ptr_nonnull(*buf);
		memcpy(*buf + *len, tmp, (size_t)n);
		*len += (size_t)n;
		(*buf)[*len] = '\0';
	}
}

/* Run ustack-stat PATH cmd; drive is called between looks at its output (NULL for a threaded
 * stack, which needs nobody). Returns its output; *status its exit status. */
static char *run_stat(const char *cmd, void (*drive)(void *), void *arg, int *status)
{
	char *argv[] = { USTACK_STAT_BIN, "--timeout", "10", path, (char *)cmd, NULL };
	posix_spawn_file_actions_t fa;
	char *out = NULL;
	size_t len = 0;
	int p[2], ws = 0;
	pid_t pid;
	bool eof = false;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	ck_assert_int_eq(posix_spawn(&pid, USTACK_STAT_BIN, &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* bounded: 3,000 looks of at most 10 ms; the tool itself gives up after 10 s */
	for (int i = 0; i < 3000 && !eof; i++) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };

		if (drive)
			drive(arg);
		poll(&pf, 1, 10);
		eof = drain(p[0], &out, &len);
	}
	ck_assert_msg(eof, "ustack-stat did not finish");
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert(WIFEXITED(ws));
	*status = WEXITSTATUS(ws);
	return out ? out : strdup("");
}

static void check_reply(const char *out, int lfd, int ufd)
{
	char row[160];

	/* the counters, as netstat -s prints them ... */
	ck_assert_msg(strstr(out, "\nTcp:\n    0 active connection openings\n"), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nSkb:\n    "));
	/* ... and the socket table with our two sockets */
	ck_assert_ptr_nonnull(strstr(out, "Netid State      Recv-Q  Send-Q  Local Address:Port"));
	snprintf(row, sizeof(row), "tcp   LISTEN     0       16      %-21s %-21s fd:%d\n", "0.0.0.0:6000",
		 "0.0.0.0:*", lfd);
	ck_assert_msg(strstr(out, row), "%s", out);
	snprintf(row, sizeof(row), "udp   UNCONN     0       0       %-21s %-21s fd:%d\n", "0.0.0.0:6001",
		 "0.0.0.0:*", ufd);
	ck_assert_msg(strstr(out, row), "%s", out);
}

/* ustack-stat PATH cmd against a threaded stack, which answers by itself: its exit status is
 * `status`; returns its output. */
static char *stat_out(const char *cmd, int status)
{
	int got;
	char *out = run_stat(cmd, NULL, NULL, &got);

	ck_assert_msg(got == status, "ustack-stat %s: exit status %d, want %d", cmd, got, status);
	return out;
}

/* The same, its output holding `has` and not `lacks` (either NULL: not checked). */
static void expect_stat(const char *cmd, int status, const char *has, const char *lacks)
{
	char *out = stat_out(cmd, status);

	if (has)
		ck_assert_msg(strstr(out, has), "ustack-stat %s: no \"%s\" in \"%s\"", cmd, has, out);
	if (lacks)
		ck_assert_msg(!strstr(out, lacks), "ustack-stat %s: \"%s\" in \"%s\"", cmd, lacks, out);
	free(out);
}

/* The same, its output exactly `want`. */
static void expect_stat_is(const char *cmd, int status, const char *want)
{
	char *out = stat_out(cmd, status);

	ck_assert_str_eq(out, want);
	free(out);
}

/* A pipe for a stack's dump stream: *w the stack's FILE on p[1], p[0] the test's end, non-blocking. */
static FILE *dump_pipe(int p[2], bool full)
{
	FILE *w;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	if (full) { /* nobody reads it: full, and blocking */
		char fill[4096];
		int fl = fcntl(p[1], F_GETFL);

		memset(fill, '.', sizeof(fill));
		fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
		while (write(p[1], fill, sizeof(fill)) > 0)
			;
		fcntl(p[1], F_SETFL, fl);
	}
	w = fdopen(p[1], "w");
	ck_assert_ptr_nonnull(w);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	return w;
}

/* What comes through the pipe until a whole dump has (the socket table's last row, the UDP
 * socket's). Bounded: 500 looks of at most 10 ms. */
static char *read_dump(int fd)
{
	char *got = NULL;
	size_t len = 0;
	bool done = false;

	for (int i = 0; i < 500 && !done; i++) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };

		poll(&pf, 1, 10);
		drain(fd, &got, &len);
		done = got && strstr(got, "udp   UNCONN");
	}
	ck_assert_msg(done, "no dump in the pipe: %s", got ? got : "");
	return got;
}

static void dump_pipe_close(struct us_stack *st, FILE *w, int p[2])
{
	ck_assert_int_eq(us_stack_set_dump_stream(st, NULL), 0);
	fclose(w);
	close(p[0]);
}

/* A threaded stack answers ustack-stat at once, from its own thread, for each command. */
START_TEST(test_ctl_threaded)
{
	struct us_stack *st;
	char *out;
	int lfd, ufd, fd, p[2];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	FILE *w;

	dir_up();
	st = stack_up(NULL, &lfd, &ufd);
	/* a stale socket file (its stack died) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sa.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	ck_assert_int_eq(us_stack_start(st), 0);
	ck_assert_int_eq(us_stack_ctl_open(st, path), 0);
	ck_assert_int_eq(us_stack_ctl_open(st, path), -EALREADY);

	out = stat_out("all", 0);
	check_reply(out, lfd, ufd);
	free(out);
	expect_stat("sockets", 0, " 0.0.0.0:6000 ", "Tcp:");
	expect_stat("stats", 0, "Ip:\n    0 total packets received\n", "Netid");
	out = stat_out("stats raw", 0); /* an argument: us_stats_dump_raw */
	ck_assert_ptr_nonnull(strstr(out, "\nTcp: ActiveOpens=0 PassiveOpens=0 "));
	ck_assert_ptr_nonnull(strstr(out, "\nSkb: allocated="));
	free(out);
	expect_stat("stats cooked", 4, NULL, NULL);
	expect_stat("help", 0, "sockets", NULL);
	/* an unknown command: the reply is an error, on stderr, exit status 4 */
	expect_stat_is("nonsense", 4, "");
	/* per-layer timing switched and read from outside; all adds its table while it is on */
	expect_stat("latency", 0, "Where latency lives (timing off;", NULL);
	out = stat_out("latency on", 0);
	ck_assert_ptr_nonnull(strstr(out, "Where latency lives (timing on;"));
	ck_assert_ptr_nonnull(strstr(out, "  device -> app "));
	free(out);
	ck_assert(us_latency_enabled(st));
	expect_stat("all", 0, "Where latency lives (timing on;", NULL);
	expect_stat("latency reset", 0, NULL, NULL);
	expect_stat("latency off", 0, "(timing off;", NULL);
	ck_assert(!us_latency_enabled(st));
	expect_stat("all", 0, NULL, "Where latency lives");
	expect_stat("latency sideways", 4, NULL, NULL);
	/* the packet trace switched from outside */
	expect_stat_is("trace", 0, "trace off\n");
	expect_stat_is("trace on", 0, "trace on\n");
	expect_stat_is("trace off", 0, "trace off\n");
	expect_stat("trace sideways", 4, NULL, NULL);

	/* a requested dump, from the stack thread, into a pipe (written after the thread unlocks) */
	w = dump_pipe(p, false);
	ck_assert_int_eq(us_stack_set_dump_stream(st, w), 0);
	us_stack_request_dump(st);
	out = read_dump(p[0]);
	ck_assert_ptr_nonnull(strstr(out, "ustack dump (requested) at "));
	check_reply(out, lfd, ufd);
	free(out);
	dump_pipe_close(st, w, p);

	/* a dump stream nobody reads (a full pipe) holds up the stack thread, not the socket calls:
	 * the thread writes after it has let go of the stack lock */
	w = dump_pipe(p, true);
	ck_assert_int_eq(us_stack_set_dump_stream(st, w), 0);
	us_stack_request_dump(st);
	poll(NULL, 0, 100); /* time for the thread to get stuck in write(2) */
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(us_getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
	free(read_dump(p[0]));
	dump_pipe_close(st, w, p);

	/* stopped, the stack is driven again: the channel still answers (the driven check) */
	us_stack_stop(st);
	ck_assert_int_le(us_stack_timeout_ms(st), 100);
	us_stack_ctl_close(st);
	ck_assert_int_eq(access(path, F_OK), -1);
	/* anything but a socket at the path is not ours to remove */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(us_stack_ctl_open(st, path), -EEXIST);
	ck_assert_int_eq(unlink(path), 0);
	stack_down(st, lfd, ufd);
	dir_down();
}
END_TEST

static void drive(void *arg)
{
	us_stack_wait(arg, 10);
}

/* A driven stack (us_stack_wait in the test's loop, no thread) answers too: its timer looks at the
 * channel every 100 ms, and the loop's timeout says so. */
START_TEST(test_ctl_driven)
{
	struct us_stack *st;
	char *out;
	int lfd, ufd, status;

	dir_up();
	st = stack_up(NULL, &lfd, &ufd);
	ck_assert_int_eq(us_stack_timeout_ms(st), -1);
	ck_assert_int_eq(us_stack_ctl_open(st, path), 0);
	us_stack_poll(st);
	ck_assert_int_le(us_stack_timeout_ms(st), 100);
	out = run_stat("all", drive, st, &status);
	ck_assert_int_eq(status, 0);
	check_reply(out, lfd, ufd);
	free(out);
	/* then started: the thread takes the channel over */
	ck_assert_int_eq(us_stack_start(st), 0);
	out = run_stat("", NULL, NULL, &status); /* an empty line: all */
	ck_assert_int_eq(status, 0);
	check_reply(out, lfd, ufd);
	free(out);
	us_stack_stop(st);
	stack_down(st, lfd, ufd); /* closes the channel */
	dir_down();
}
END_TEST

/* On virtual time: a client that connects and never writes is dropped 5 s after it came, and does
 * not hold up one that asks meanwhile; a ninth client at once is turned away with "error: busy". */
START_TEST(test_ctl_slow_clients)
{
	struct us_clock clk;
	struct us_stack *st;
	int lfd, ufd, idle[7], asker, ninth, tenth;
	char *out = NULL;
	size_t len = 0;

	dir_up();
	us_clock_init_virtual(&clk, 1000 * US_NSEC_PER_SEC);
	st = stack_up(&clk, &lfd, &ufd);
	ck_assert_int_eq(us_stack_ctl_open(st, path), 0);
	for (int i = 0; i < 7; i++)
		idle[i] = ctl_connect();
	asker = ctl_connect();
	ck_assert_int_eq(write(asker, "sockets\n", 8), 8);
	us_clock_advance(&clk, 100 * US_NSEC_PER_MSEC);
	us_stack_poll(st); /* the driven check: all eight taken, the asker answered */
	ck_assert(drain(asker, &out, &len));
	ck_assert_ptr_nonnull(strstr(out, " 0.0.0.0:6000 "));
	free(out);
	out = NULL;
	len = 0;
	close(asker);
	ninth = ctl_connect();
	tenth = ctl_connect();
	us_clock_advance(&clk, 100 * US_NSEC_PER_MSEC);
	us_stack_poll(st);
	/* seven idle ones and the ninth: eight; the tenth is turned away */
	ck_assert(drain(tenth, &out, &len));
	ck_assert_str_eq(out, "error: busy, try again\n");
	free(out);
	out = NULL;
	len = 0;
	ck_assert(!drain(ninth, &out, &len));
	/* 300 bytes and no newline: the first 255 are taken as the line, an unknown command */
	{
		char junk[300];
		int j;

		memset(junk, 'x', sizeof(junk));
		close(tenth);
		close(idle[6]); /* one idle client less: the stack sees it go, then j comes */
		us_clock_advance(&clk, 100 * US_NSEC_PER_MSEC);
		us_stack_poll(st);
		j = ctl_connect();
		ck_assert_int_eq(write(j, junk, sizeof(junk)), (ssize_t)sizeof(junk));
		us_clock_advance(&clk, 100 * US_NSEC_PER_MSEC);
		us_stack_poll(st);
		ck_assert(drain(j, &out, &len));
		ck_assert_msg(strncmp(out, "error: unknown command 'xxx", 27) == 0, "%s", out);
		free(out);
		out = NULL;
		len = 0;
		close(j);
	}
	/* the idle ones are dropped at 5 s from their arrival (EOF), the ninth 0.1 s later */
	us_clock_advance(&clk, 4700 * US_NSEC_PER_MSEC); /* 1005.1 s */
	us_stack_poll(st);
	for (int i = 0; i < 6; i++) {
		ck_assert(drain(idle[i], &out, &len));
		ck_assert_uint_eq(len, 0);
		close(idle[i]);
	}
	ck_assert(!drain(ninth, &out, &len));
	us_clock_advance(&clk, 100 * US_NSEC_PER_MSEC);
	us_stack_poll(st);
	ck_assert(drain(ninth, &out, &len));
	ck_assert_uint_eq(len, 0);
	close(ninth);
	free(out);
	stack_down(st, lfd, ufd);
	dir_down();
}
END_TEST

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* us_stack_request_dump (what a SIGUSR1 handler calls) prints both dumps at the next round, once;
 * us_stack_set_dump_interval every N seconds of stack time, on the timer queue. */
START_TEST(test_dump_requests)
{
	struct us_clock clk;
	struct us_stack *st;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int lfd, ufd;

	ck_assert_ptr_nonnull(m);
	us_clock_init_virtual(&clk, 1000 * US_NSEC_PER_SEC);
	st = stack_up(&clk, &lfd, &ufd);
	ck_assert_int_eq(us_stack_set_dump_stream(st, m), 0);
	us_stack_poll(st);
	fflush(m);
	ck_assert_uint_eq(len, 0);
	us_stack_request_dump(st);
	us_stack_request_dump(st); /* two before a round: one dump */
	us_stack_poll(st);
	us_stack_poll(st);
	fflush(m);
	ck_assert_int_eq(count_of(buf, "ustack dump (requested) at 1000.000 s\n"), 1);
	ck_assert_int_eq(count_of(buf, "\nTcp:\n"), 1);
	ck_assert_int_eq(count_of(buf, " 0.0.0.0:6000 "), 1);

	ck_assert_int_eq(us_stack_set_dump_interval(st, 2 * US_NSEC_PER_SEC), 0);
	ck_assert_int_eq(us_stack_timeout_ms(st), 2000);
	for (int i = 0; i < 14; i++) { /* 7 s in steps of half a second */
		us_clock_advance(&clk, 500 * US_NSEC_PER_MSEC);
		us_stack_poll(st);
	}
	fflush(m);
	ck_assert_int_eq(count_of(buf, "ustack dump (periodic)"), 3);
	ck_assert_int_eq(count_of(buf, "ustack dump (periodic) at 1006.000 s\n"), 1);
	ck_assert_int_eq(us_stack_set_dump_interval(st, 0), 0);
	ck_assert_int_eq(us_stack_timeout_ms(st), -1);
	us_clock_advance(&clk, 10 * US_NSEC_PER_SEC);
	us_stack_poll(st);
	fflush(m);
	ck_assert_int_eq(count_of(buf, "ustack dump ("), 4);
	stack_down(st, lfd, ufd);
	fclose(m);
	free(buf);
}
END_TEST

static Suite *stack_ctl_suite(void)
{
	Suite *s = suite_create("stack_ctl");
	TCase *tc = tcase_create("ctl");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ctl_threaded);
	tcase_add_test(tc, test_ctl_driven);
	tcase_add_test(tc, test_ctl_slow_clients);
	tcase_add_test(tc, test_dump_requests);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return test_run(stack_ctl_suite());
}
