/*
 * ustack-stat - read the counters and the socket table of a running ustack through its control
 * channel (the UNIX socket us_stack_ctl_open made; the examples' --ctl PATH), as netstat -s and ss
 * read Linux's. docs/ustack-stat.md is the manual.
 *
 * One exchange: connect, write the command line, read the reply to EOF. Every wait is bounded by
 * --timeout: a stack that accepts but never answers (stopped in a debugger, wedged) is reported, not
 * waited on forever. --watch repeats the exchange every SECONDS, --count times (or until SIGINT).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* exit statuses (also in --help) */
enum { EX_OK = 0, EX_CONNECT = 1, EX_USAGE = 2, EX_TIMEOUT = 3, EX_REFUSED = 4 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ustack-stat [--watch SECONDS] [--count N] [--timeout SECONDS] PATH [COMMAND [ARG]]\n"
		"\n"
		"Ask the ustack whose control socket is PATH (a program started with --ctl PATH, or one\n"
		"that called us_stack_ctl_open) for COMMAND and print the reply:\n"
		"  stats     the counters, as netstat -s prints them (Ip, Icmp, Udp, Tcp, TcpExt, ...)\n"
		"  stats raw the same, a line of NAME=VALUE per group, for scripts\n"
		"  sockets   the socket table, as ss -tuanieo prints it, with ss -ti's line per TCP socket\n"
		"  all       both (the default)\n"
		"  help      the commands this stack knows\n"
		"\n"
		"  --watch SECONDS   ask again every SECONDS (a fraction is fine) until --count or SIGINT\n"
		"  --count N         how many times to ask with --watch (default: no limit)\n"
		"  --timeout SECONDS give up on a reply after SECONDS (default 5)\n"
		"  --help            this text\n"
		"\n"
		"exit status: 0 every reply came; 1 no stack at PATH (no socket, refused, not a socket);\n"
		"2 bad usage; 3 the stack did not answer within --timeout; 4 the stack refused the\n"
		"command (its reply begins \"error:\", as for an unknown command or when busy)\n");
}

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A positive number of seconds; exits on a bad one. */
static double parse_seconds(const char *name, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0 && v < 1e7)) {
		fprintf(stderr, "ustack-stat: bad --%s: %s\n", name, s);
		exit(EX_USAGE);
	}
	return v;
}

/* Wait for fd to be ready for events until the absolute time `end`; 1 ready, 0 timed out, -1 error
 * or stopped. */
static int wait_fd(int fd, short events, double end)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = end - seconds_now();
		int r;

		if (stop)
			return -1;
		if (left <= 0)
			return 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* One exchange; returns an exit status. */
static int ask(const char *path, const char *cmd, double timeout)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double end = seconds_now() + timeout;
	char line[256], buf[65536];
	size_t len, off = 0;
	bool first = true, refused = false;
	int fd, r;

	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ustack-stat: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EX_CONNECT;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);
	while (off < len) {
		ssize_t n;

		r = wait_fd(fd, POLLOUT, end);
		if (r <= 0)
			goto timeout;
		n = send(fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			fprintf(stderr, "ustack-stat: %s: %s\n", path, strerror(errno));
			close(fd);
			return EX_CONNECT;
		}
		off += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		r = wait_fd(fd, POLLIN, end);
		if (r <= 0)
			goto timeout;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			fprintf(stderr, "ustack-stat: %s: %s\n", path, strerror(errno));
			close(fd);
			return EX_CONNECT;
		}
		if (n == 0)
			break;
		if (first && n >= 6 && memcmp(buf, "error:", 6) == 0)
			refused = true; /* the whole reply goes to stderr */
		fwrite(buf, 1, (size_t)n, refused ? stderr : stdout);
		first = false;
	}
	close(fd);
	fflush(stdout);
	if (first) {
		fprintf(stderr, "ustack-stat: %s: closed without a reply\n", path);
		return EX_TIMEOUT;
	}
	return refused ? EX_REFUSED : EX_OK;
timeout:
	close(fd);
	fflush(stdout);
	if (stop)
		return EX_OK;
	fprintf(stderr, "ustack-stat: %s: no reply within %g s\n", path, timeout);
	return EX_TIMEOUT;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", required_argument, NULL, 'w' }, { "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double watch = 0, timeout = 5;
	unsigned long count = 0; /* 0: no limit */
	const char *path, *cmd = "all";
	static char line[201];
	struct sigaction sa;
	int c, status = EX_OK;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w': watch = parse_seconds("watch", optarg); break;
		case 't': timeout = parse_seconds("timeout", optarg); break;
		case 'c': {
			char *end;
			errno = 0;
			count = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-' || count == 0) {
				fprintf(stderr, "ustack-stat: bad --count: %s\n", optarg);
				return EX_USAGE;
			}
			break;
		}
		case 'h': usage(stdout); return EX_OK;
		default: usage(stderr); return EX_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	path = argv[optind];
	if (argc - optind >= 2) {
		/* the command and its arguments, one line */
		size_t n = 0;

		cmd = line;
		line[0] = '\0';
		for (int i = optind + 1; i < argc; i++) {
			const char *sep = i > optind + 1 ? " " : "";
			int k = snprintf(line + n, sizeof(line) - n, "%s%s", sep, argv[i]);
			if (k < 0 || (size_t)k >= sizeof(line) - n) {
				fprintf(stderr, "ustack-stat: command too long\n");
				return EX_USAGE;
			}
			n += (size_t)k;
		}
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "ustack-stat: path too long: %s\n", path);
		return EX_USAGE;
	}
	if (strlen(cmd) > 200 || strchr(cmd, '\n')) {
		fprintf(stderr, "ustack-stat: bad command\n");
		return EX_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (watch == 0)
		return ask(path, cmd, timeout);
	for (unsigned long i = 0; !stop && (count == 0 || i < count); i++) {
		double next = seconds_now() + watch;

		if (i)
			printf("\n");
		status = ask(path, cmd, timeout);
		if (status != EX_OK || (count && i + 1 == count))
			break;
		while (!stop && seconds_now() < next) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	return status;
}
