/*
 * http_get - fetch one URL over ustack's socket API, a very small curl: an HTTP/1.1 GET with
 * "Connection: close", the body framed by Content-Length, by the chunked transfer coding, or by the
 * server's close, and written to -o FILE (default stdout). The status line, the byte count and the
 * throughput go to stderr. Exit status 0 for a 2xx response received whole, 1 otherwise.
 *
 * Only numeric IPv4 hosts: there is no resolver.
 *
 * Try it against the kernel (in a network namespace; the kernel side of the TAP device is 198.18.0.1):
 *   (cd /tmp && python3 -m http.server 8000 --bind 198.18.0.1) &
 *   http_get --tap tap0 --addr 198.18.0.2/24 http://198.18.0.1:8000/ -o index.html
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"

#define LINE_MAX_LEN 8192  /* a status line, header line or chunk-size line */
#define HEADERS_MAX 200	   /* header fields in a response */

struct reader {
	int fd;
	int timeout_ms;	   /* for each wait */
	uint8_t buf[65536];
	size_t off, len;   /* buf[off, len) is received, not yet consumed */
};

static void usage(FILE *to)
{
	fprintf(to, "usage: http_get [options] http://A.B.C.D[:PORT]/PATH\n"
		    "GET one URL with HTTP/1.1 and write the body out. The host must be a numeric IPv4\n"
		    "address (there is no name resolution); the port defaults to 80.\n"
		    "  -o, --output FILE  write the body to FILE (default: stdout)\n"
		    "  --timeout SEC      give up when nothing arrives for SEC seconds (default 10)\n"
		    "  --verbose          print the response's header fields to stderr\n" EX_COMMON_HELP);
}

/* "http://A.B.C.D[:PORT][/PATH]" -> address, "A.B.C.D[:PORT]" for Host, and the path. */
static int parse_url(const char *url, struct sockaddr_in *to, char *host, size_t hostsz, const char **path)
{
	const char *h, *slash;
	size_t hl;

	if (strncasecmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	hl = slash ? (size_t)(slash - h) : strlen(h);
	if (hl == 0 || hl >= hostsz)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*path = slash ? slash : "/";
	return ex_parse_sockaddr(host, 80, to);
}

/* More bytes into the reader. 1: some arrived; 0: the server closed; -1: error (printed). */
static int rd_fill(struct reader *r)
{
	if (r->off > 0) {
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (r->len == sizeof(r->buf))
		return 1;
	for (;;) {
		ssize_t n = us_recv(r->fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
		int w;

		if (n > 0) {
			r->len += (size_t)n;
			return 1;
		}
		if (n == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fprintf(stderr, "http_get: recv: %s\n", strerror(errno));
			return -1;
		}
		w = ex_wait_fd(r->fd, POLLIN, r->timeout_ms);
		if (w <= 0) {
			fprintf(stderr, "http_get: %s\n", w == 0 ? "timed out" : strerror(errno));
			return -1;
		}
	}
}

/* The next line, without its CR LF, into line (size max). 0, or -1 (error printed). */
static int rd_line(struct reader *r, char *line, size_t max)
{
	for (;;) {
		uint8_t *nl = memchr(r->buf + r->off, '\n', r->len - r->off);
		int f;

		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->off));
			size_t keep = n && nl[-1] == '\r' ? n - 1 : n;
			if (keep >= max) {
				fprintf(stderr, "http_get: a line of the response is too long\n");
				return -1;
			}
			memcpy(line, r->buf + r->off, keep);
			line[keep] = '\0';
			r->off += n + 1;
			return 0;
		}
		if (r->len - r->off >= max) {
			fprintf(stderr, "http_get: a line of the response is too long\n");
			return -1;
		}
		f = rd_fill(r);
		if (f <= 0) {
			if (f == 0)
				fprintf(stderr, "http_get: the server closed in the middle of the response head\n");
			return -1;
		}
	}
}

/* Copy n body bytes (UINT64_MAX: until the server closes) to out. 0, or -1 (error printed). */
static int rd_body(struct reader *r, FILE *out, uint64_t n, uint64_t *total)
{
	while (n > 0) {
		size_t have = r->len - r->off, take;
		int f;

		if (have == 0) {
			f = rd_fill(r);
			if (f < 0)
				return -1;
			if (f == 0) {
				if (n == UINT64_MAX)
					return 0;
				fprintf(stderr, "http_get: the server closed %llu bytes short\n",
					(unsigned long long)n);
				return -1;
			}
			continue;
		}
		take = n < have ? (size_t)n : have;
		if (fwrite(r->buf + r->off, 1, take, out) != take) {
			fprintf(stderr, "http_get: write: %s\n", strerror(errno));
			return -1;
		}
		r->off += take;
		*total += take;
		if (n != UINT64_MAX)
			n -= take;
	}
	return 0;
}

/* RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... last-chunk trailer-section CRLF */
static int rd_chunked(struct reader *r, FILE *out, uint64_t *total)
{
	char line[LINE_MAX_LEN];

	for (;;) {
		uint64_t size = 0;
		const char *p = line;

		if (rd_line(r, line, sizeof(line)) != 0)
			return -1;
		for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
			int d = *p >= '0' && *p <= '9'	 ? *p - '0'
				: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
				: *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
							 : -1;
			if (d < 0 || size >> 60) {
				fprintf(stderr, "http_get: bad chunk size \"%s\"\n", line);
				return -1;
			}
			size = size * 16 + (uint64_t)d;
		}
		if (p == line) {
			fprintf(stderr, "http_get: bad chunk size \"%s\"\n", line);
			return -1;
		}
		if (size == 0)
			break;
		if (rd_body(r, out, size, total) != 0 || rd_line(r, line, sizeof(line)) != 0)
			return -1;
		if (line[0]) {
			fprintf(stderr, "http_get: chunk data longer than its size\n");
			return -1;
		}
	}
	/* the trailer section, up to the empty line */
	for (int i = 0; i < HEADERS_MAX; i++) {
		if (rd_line(r, line, sizeof(line)) != 0)
			return -1;
		if (!line[0])
			return 0;
	}
	fprintf(stderr, "http_get: too many trailer fields\n");
	return -1;
}

/* Does the comma-separated list v end with the token "chunked"? (RFC 9112 §6.3: only then is the
 * body chunked) */
static bool ends_chunked(const char *v)
{
	const char *last = strrchr(v, ',');
	size_t n;

	last = last ? last + 1 : v;
	while (*last == ' ' || *last == '\t')
		last++;
	n = strlen(last);
	while (n && (last[n - 1] == ' ' || last[n - 1] == '\t'))
		n--;
	return n == 7 && strncasecmp(last, "chunked", 7) == 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "output", required_argument, NULL, 'o' },
					      { "timeout", required_argument, NULL, 't' },
					      { "verbose", no_argument, NULL, 'v' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	static struct reader rd;
	static char line[LINE_MAX_LEN], req[LINE_MAX_LEN + 256];
	struct sockaddr_in to;
	struct ex_opts o;
	struct us_stack *st;
	const char *output = NULL, *path;
	char host[32];
	double timeout = 10, t0, secs;
	bool verbose = false, chunked = false, has_length = false;
	uint64_t length = 0, total = 0;
	int c, fd, status = 0, rc = 1, n;
	FILE *out = stdout;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "ho:v", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'o': output = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'v': verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || timeout <= 0 || timeout > 86400) {
		usage(stderr);
		return 2;
	}
	if (parse_url(argv[optind], &to, host, sizeof(host), &path) != 0) {
		fprintf(stderr, "http_get: %s: want http://A.B.C.D[:PORT]/PATH (numeric IPv4 only)\n",
			argv[optind]);
		return 2;
	}
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ustack-http_get\r\nAccept: */*\r\n"
		     "Connection: close\r\n\r\n",
		     path, host);
	if (n < 0 || (size_t)n >= sizeof(req) || strpbrk(path, " \r\n")) {
		fprintf(stderr, "http_get: the path is too long or has blanks in it\n");
		return 2;
	}
	if (output && strcmp(output, "-") != 0 && !(out = fopen(output, "wb"))) {
		fprintf(stderr, "http_get: %s: %s\n", output, strerror(errno));
		return 1;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	t0 = ex_seconds();
	rd.timeout_ms = (int)(timeout * 1000);
	rd.fd = fd = ex_tcp_connect(&to, rd.timeout_ms);
	if (fd < 0) {
		fprintf(stderr, "http_get: connect %s: %s\n", host, strerror(errno));
		goto done;
	}
	if (ex_send_all(fd, req, (size_t)n, rd.timeout_ms) != 0) {
		fprintf(stderr, "http_get: send: %s\n", strerror(errno));
		goto done;
	}

	/* the status line; 1xx interim responses are skipped (RFC 9110 §15.2) */
	do {
		int fields = 0;

		if (rd_line(&rd, line, sizeof(line)) != 0)
			goto done;
		if (sscanf(line, "HTTP/1.%*1[0-9] %3d", &status) != 1 || status < 100 || status > 999) {
			fprintf(stderr, "http_get: not an HTTP/1.x status line: \"%.80s\"\n", line);
			goto done;
		}
		fprintf(stderr, "http_get: %s\n", line);
		for (;;) {
			char *colon, *v;

			if (rd_line(&rd, line, sizeof(line)) != 0)
				goto done;
			if (!line[0])
				break;
			if (++fields > HEADERS_MAX || !(colon = strchr(line, ':'))) {
				fprintf(stderr, "http_get: bad response header \"%.80s\"\n", line);
				goto done;
			}
			if (verbose)
				fprintf(stderr, "http_get:   %s\n", line);
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (strcasecmp(line, "content-length") == 0) {
				char *e;
				errno = 0;
				length = strtoull(v, &e, 10);
				if (errno || e == v || (*e && *e != ' ' && *e != '\t') || *v == '-') {
					fprintf(stderr, "http_get: bad Content-Length \"%s\"\n", v);
					goto done;
				}
				has_length = true;
			} else if (strcasecmp(line, "transfer-encoding") == 0) {
				chunked = ends_chunked(v);
			}
		}
	} while (status < 200);

	/* RFC 9112 §6.3: which framing the body has */
	if (status == 204 || status == 304)
		rc = 0;
	else if (chunked)
		rc = rd_chunked(&rd, out, &total);
	else if (has_length)
		rc = rd_body(&rd, out, length, &total);
	else
		rc = rd_body(&rd, out, UINT64_MAX, &total);
	if (rc == 0 && (status < 200 || status > 299))
		rc = 1;
done:
	secs = ex_seconds() - t0;
	if (fd >= 0)
		us_close(fd);
	if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
		fprintf(stderr, "http_get: write: %s\n", strerror(errno));
		rc = 1;
	}
	fprintf(stderr, "http_get: %llu bytes in %.3f s, %.2f MB/s%s\n", (unsigned long long)total, secs,
		secs > 0 ? (double)total / secs / 1e6 : 0.0, rc == 0 ? "" : " (failed)");
	return ex_stack_down(st, rc != 0);
}
