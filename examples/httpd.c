/*
 * httpd - a small HTTP/1.1 server on ustack's socket API: GET and HEAD, persistent connections
 * (HTTP/1.1 keeps the connection unless the client says "Connection: close"; HTTP/1.0 closes unless
 * it asks for keep-alive), pipelined requests answered in order, Content-Length on every response.
 * It serves the files under --root, or, without --root, a built-in index page and /bytes/N: N bytes
 * of a fixed pattern (byte i is i mod 251), for benchmarks and tests.
 *
 * One thread and one us_epoll instance (level-triggered, non-blocking sockets) carry every
 * connection. A connection is either reading a request or sending a response; a response goes out
 * through a 64 KiB buffer refilled from the file whenever the socket takes more, so a large file
 * streams in bounded memory. A connection to be closed is shut for writing first and read until the
 * client closes (a "lingering close"), so that a request the client already sent cannot turn the
 * close into a reset that would destroy the end of the response.
 *
 * Paths are percent-decoded, and any ".." segment is refused with 400, so no request names a file
 * outside the root (symbolic links inside the root are followed, as most servers do).
 *
 * Try it (in a network namespace; the kernel side of the TAP device gets 198.18.0.1/24):
 *   httpd --tap tap0 --addr 198.18.0.2/24 --port 80 &
 *   ip addr add 198.18.0.1/24 dev tap0; ip link set tap0 up
 *   curl -v http://198.18.0.2/ ; curl -o /dev/null http://198.18.0.2/bytes/100000000
 *   wrk -t2 -c50 -d10s http://198.18.0.2/
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define REQ_MAX 8192	      /* request line and headers, bytes */
#define OUT_BUF 65536	      /* response buffer per connection sending, bytes */
#define LINGER_SECONDS 5      /* reading after our FIN before closing anyway */
#define BYTES_MAX (1ull << 40) /* largest /bytes/N */

enum body_kind { BODY_NONE, BODY_MEM, BODY_FILE, BODY_GEN };

struct conn {
	int fd;
	struct sockaddr_in peer;
	char req[REQ_MAX];	 /* received, not yet parsed */
	size_t req_len;
	bool sending;		 /* a response is going out */
	bool keep_alive;	 /* read the next request after it */
	bool lingering;		 /* shut for writing; reading until the client closes */
	uint8_t *out;		 /* OUT_BUF bytes; out[out_off, out_len) is still to send */
	size_t out_off, out_len;
	enum body_kind kind;	 /* where the rest of the body comes from */
	const char *mem;	 /* BODY_MEM */
	int file;		 /* BODY_FILE: a kernel descriptor, -1 when none */
	uint64_t body_pos;	 /* offset of the next body byte to load */
	uint64_t body_left;	 /* body bytes still to load */
	uint32_t events;	 /* what the epoll instance watches for */
	double deadline;	 /* idle or linger limit, ex_seconds() */
	struct conn *prev, *next;
};

struct server {
	int ep;
	const char *root;	 /* NULL: the built-in pages */
	double idle;		 /* keep-alive idle limit, seconds */
	long max_conns;
	bool verbose;
	struct conn *conns;
	long nconns;
	double now;		 /* ex_seconds() at the top of this round of the loop */
	uint64_t accepted, requests, bytes_sent;
};

struct request {
	char method[16];
	char path[PATH_MAX];	 /* decoded, starts with '/' */
	int minor;		 /* HTTP/1.minor */
	bool head;		 /* HEAD: headers only */
};

static int listener_tag; /* its address marks the listener's events */

static const char index_page[] =
	"<!DOCTYPE html>\n<html><head><title>ustack httpd</title></head><body>\n"
	"<h1>ustack httpd</h1>\n"
	"<p>This page was served by a userspace TCP/IP stack.</p>\n"
	"<ul><li><a href=\"/bytes/1000\">/bytes/N</a>: N bytes, byte i being i mod 251</li></ul>\n"
	"</body></html>\n";

static void usage(FILE *to)
{
	fprintf(to, "usage: httpd [options]\n"
		    "HTTP/1.1 server: GET and HEAD, keep-alive, files under --root or built-in pages.\n"
		    "  --port N         TCP port (default 80)\n"
		    "  --root DIR       serve the files under DIR (default: a built-in index page and\n"
		    "                   /bytes/N, N bytes where byte i is i mod 251)\n"
		    "  --max-conns N    connections at once; more are closed at once (default 1024)\n"
		    "  --idle SEC       close a keep-alive connection idle this long (default 30)\n"
		    "  --seconds N      stop after N seconds (default: until SIGINT/SIGTERM)\n"
		    "  --verbose        a line per request\n" EX_COMMON_HELP);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

static const char *content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
		{ "js", "text/javascript" },		{ "json", "application/json" },
		{ "xml", "application/xml" },		{ "png", "image/png" },
		{ "jpg", "image/jpeg" },		{ "jpeg", "image/jpeg" },
		{ "gif", "image/gif" },			{ "svg", "image/svg+xml" },
		{ "ico", "image/x-icon" },		{ "pdf", "application/pdf" },
		{ "wasm", "application/wasm" },		{ "mp4", "video/mp4" },
	};
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');

	if (dot && (!slash || dot > slash)) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot + 1, types[i].ext) == 0)
				return types[i].type;
	}
	return "application/octet-stream";
}

/* RFC 9110 §6.6.1: an origin server with a clock sends Date. */
static const char *http_date(void)
{
	static char buf[40];
	static time_t last;
	time_t now = time(NULL);

	if (now != last) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static void conn_watch(struct server *s, struct conn *c, uint32_t want)
{
	if (want != c->events) {
		struct epoll_event ev = { .events = want, .data.ptr = c };
		c->events = want;
		us_epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void conn_close(struct server *s, struct conn *c)
{
	us_epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	us_close(c->fd);
	if (c->file >= 0)
		close(c->file);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	free(c->out);
	free(c);
}

/* Shut our side and read until the client closes too (or LINGER_SECONDS pass). */
static void conn_linger(struct server *s, struct conn *c)
{
	if (us_shutdown(c->fd, SHUT_WR) != 0) {
		conn_close(s, c);
		return;
	}
	c->lingering = true;
	c->deadline = s->now + LINGER_SECONDS;
	conn_watch(s, c, EPOLLIN | EPOLLRDHUP);
}

/*
 * Start a response: the status line and headers go into the output buffer, the body is described by
 * c->kind and friends (set by the caller, body_left being its length). Returns 0, or -1 if the
 * buffer cannot be had.
 */
static int start_response(struct server *s, struct conn *c, const struct request *rq, int status,
			  const char *type, uint64_t length, const char *extra)
{
	int n;

	if (!c->out && !(c->out = malloc(OUT_BUF)))
		return -1;
	n = snprintf((char *)c->out, OUT_BUF,
		     "HTTP/1.1 %d %s\r\nServer: ustack-httpd\r\nDate: %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %llu\r\n%s%s\r\n",
		     status, reason_phrase(status), http_date(), type, (unsigned long long)length,
		     !c->keep_alive ? "Connection: close\r\n"
		     : rq && rq->minor == 0 ? "Connection: keep-alive\r\n" : "",
		     extra ? extra : "");
	if (n < 0 || n >= OUT_BUF)
		return -1;
	c->out_off = 0;
	c->out_len = (size_t)n;
	c->body_pos = 0;
	c->body_left = rq && rq->head ? 0 : length;
	c->sending = true;
	if (s->verbose) {
		char a[EX_ADDRSTRLEN];
		fprintf(stderr, "httpd: %s %s %s %d %llu\n", ex_format_sockaddr(&c->peer, a),
			rq ? rq->method : "-", rq ? rq->path : "-", status, (unsigned long long)length);
	}
	return 0;
}

/* The body of a response other than 200: a line of HTML. */
static const char *status_page(int status)
{
#define PAGE(code, text) "<html><body><h1>" #code " " text "</h1></body></html>\n"
	switch (status) {
	case 301: return PAGE(301, "Moved Permanently");
	case 400: return PAGE(400, "Bad Request");
	case 403: return PAGE(403, "Forbidden");
	case 404: return PAGE(404, "Not Found");
	case 405: return PAGE(405, "Method Not Allowed");
	case 414: return PAGE(414, "URI Too Long");
	case 431: return PAGE(431, "Request Header Fields Too Large");
	case 501: return PAGE(501, "Not Implemented");
	case 505: return PAGE(505, "HTTP Version Not Supported");
	default: return PAGE(500, "Internal Server Error");
	}
#undef PAGE
}

/* A response whose body is a short HTML page about the status. */
static int error_response(struct server *s, struct conn *c, const struct request *rq, int status,
			  const char *extra)
{
	const char *page = status_page(status);

	c->kind = BODY_MEM;
	c->mem = page;
	if (status == 400 || status == 414 || status == 431 || status == 505)
		c->keep_alive = false; /* the rest of what was sent cannot be trusted to frame a request */
	return start_response(s, c, rq, status, "text/html; charset=utf-8", strlen(page), extra);
}

/* Load up to room bytes of body into dst; the number loaded, or -1 (the file went away or shrank). */
static ssize_t body_load(struct conn *c, uint8_t *dst, size_t room)
{
	size_t n = c->body_left < room ? (size_t)c->body_left : room;

	switch (c->kind) {
	case BODY_MEM:
		memcpy(dst, c->mem + c->body_pos, n);
		break;
	case BODY_GEN:
		for (size_t i = 0; i < n; i++)
			dst[i] = (uint8_t)((c->body_pos + i) % 251);
		break;
	case BODY_FILE: {
		ssize_t r = pread(c->file, dst, n, (off_t)c->body_pos);
		if (r <= 0)
			return -1;
		n = (size_t)r;
		break;
	}
	case BODY_NONE:
		return n ? -1 : 0;
	}
	c->body_pos += n;
	c->body_left -= n;
	return (ssize_t)n;
}

/* Send what the socket takes. 1: the response is out; 0: the socket is full; -1: give up. */
static int conn_write(struct server *s, struct conn *c)
{
	for (;;) {
		ssize_t n;

		/* top the buffer up when it is empty, or holds only the headers */
		if (c->body_left > 0 && (c->out_off == c->out_len || c->out_off == 0)) {
			if (c->out_off == c->out_len)
				c->out_off = c->out_len = 0;
			if (c->out_len < OUT_BUF) {
				n = body_load(c, c->out + c->out_len, OUT_BUF - c->out_len);
				if (n < 0)
					return -1;
				c->out_len += (size_t)n;
			}
		}
		if (c->out_off == c->out_len)
			return c->body_left == 0 ? 1 : -1;
		n = us_send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->out_off += (size_t)n;
		s->bytes_sent += (uint64_t)n;
		c->deadline = s->now + s->idle; /* a client taking data is not idle */
	}
}

static void end_response(struct conn *c)
{
	if (c->file >= 0) {
		close(c->file);
		c->file = -1;
	}
	c->kind = BODY_NONE;
	c->sending = false;
	free(c->out); /* an idle keep-alive connection holds no output buffer */
	c->out = NULL;
}

/* Is s a token (RFC 9110 §5.6.2)? */
static bool is_token(const char *p, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch <= 32 || ch >= 127 || strchr("\"(),/:;<=>?@[\\]{}", ch))
			return false;
	}
	return true;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The request target into rq->path: origin-form ("/a/b?q") or absolute-form ("http://h/a/b"),
 * query dropped, percent-decoded. Returns 0, or the status to answer: 400 for a malformed target, a
 * control character or a ".." segment, 414 when too long.
 */
static int parse_target(const char *t, size_t n, struct request *rq)
{
	size_t o = 0;

	if (n > 7 && strncasecmp(t, "http://", 7) == 0) {
		const char *slash = memchr(t + 7, '/', n - 7);
		size_t skip = slash ? (size_t)(slash - t) : n;
		t += skip;
		n -= skip;
		if (n == 0) {
			t = "/";
			n = 1;
		}
	}
	if (n == 0 || t[0] != '/')
		return 400;
	for (size_t i = 0; i < n && t[i] != '?' && t[i] != '#'; i++) {
		char ch = t[i];
		if (ch == '%') {
			int hi = i + 2 < n ? hexval(t[i + 1]) : -1, lo = hi >= 0 ? hexval(t[i + 2]) : -1;
			if (lo < 0)
				return 400;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if ((unsigned char)ch < 0x20 || ch == 0x7f)
			return 400; /* no control characters, so none can reach a header or a file name */
		if (o + 1 >= sizeof(rq->path))
			return 414;
		rq->path[o++] = ch;
	}
	rq->path[o] = '\0';
	/* no ".." segment, however it was spelled */
	for (const char *seg = rq->path; seg; seg = strchr(seg + 1, '/')) {
		if (strncmp(seg, "/..", 3) == 0 && (seg[3] == '/' || seg[3] == '\0'))
			return 400;
	}
	return 0;
}

/* GET or HEAD of a built-in page. */
static int serve_builtin(struct server *s, struct conn *c, const struct request *rq)
{
	if (strcmp(rq->path, "/") == 0 || strcmp(rq->path, "/index.html") == 0) {
		c->kind = BODY_MEM;
		c->mem = index_page;
		return start_response(s, c, rq, 200, "text/html; charset=utf-8", sizeof(index_page) - 1,
				      NULL);
	}
	if (strncmp(rq->path, "/bytes/", 7) == 0) {
		const char *p = rq->path + 7;
		uint64_t n = 0;
		bool ok = *p != '\0';

		for (; ok && *p; p++) {
			if (*p < '0' || *p > '9' || n > BYTES_MAX / 10)
				ok = false;
			else
				n = n * 10 + (uint64_t)(*p - '0');
		}
		if (ok && n <= BYTES_MAX) {
			c->kind = BODY_GEN;
			return start_response(s, c, rq, 200, "application/octet-stream", n, NULL);
		}
	}
	return error_response(s, c, rq, 404, NULL);
}

/* GET or HEAD of a file under the root; a directory is served by its index.html. */
static int serve_file(struct server *s, struct conn *c, const struct request *rq)
{
	char fs[PATH_MAX + 16], extra[3 * PATH_MAX + 32];
	struct stat sb;
	size_t len;
	int fd, n;

	n = snprintf(fs, sizeof(fs), "%s%s", s->root, rq->path);
	if (n < 0 || (size_t)n >= sizeof(fs) - 16)
		return error_response(s, c, rq, 414, NULL);
	len = (size_t)n;
	if (stat(fs, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (rq->path[strlen(rq->path) - 1] != '/') {
			/* links in the index resolve against the directory only with the slash */
			size_t o = (size_t)snprintf(extra, sizeof(extra), "Location: ");
			for (const char *q = rq->path; *q && o + 8 < sizeof(extra); q++) {
				unsigned char ch = (unsigned char)*q;
				if (ch > 0x20 && ch < 0x7f && !strchr("%\"<>\\^`{|}?#", ch))
					extra[o++] = (char)ch;
				else
					o += (size_t)snprintf(extra + o, 4, "%%%02X", ch);
			}
			memcpy(extra + o, "/\r\n", 4);
			return error_response(s, c, rq, 301, extra);
		}
		memcpy(fs + len, "index.html", sizeof("index.html"));
	}
	fd = open(fs, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return error_response(s, c, rq, errno == EACCES ? 403 : errno == ENOENT || errno == ENOTDIR ? 404 : 500,
				      NULL);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return error_response(s, c, rq, 404, NULL);
	}
	c->kind = BODY_FILE;
	c->file = fd;
	return start_response(s, c, rq, 200, content_type(fs), (uint64_t)sb.st_size, NULL);
}

/* A header field's value with surrounding blanks trimmed. */
static void trim(const char **v, size_t *n)
{
	while (*n && (**v == ' ' || **v == '\t')) {
		(*v)++;
		(*n)--;
	}
	while (*n && ((*v)[*n - 1] == ' ' || (*v)[*n - 1] == '\t'))
		(*n)--;
}

/* Does the comma-separated list v (n bytes) hold the token tok, in any case? */
static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	while (n > 0) {
		const char *comma = memchr(v, ',', n);
		size_t item = comma ? (size_t)(comma - v) : n;
		const char *p = v;
		size_t pl = item;

		trim(&p, &pl);
		if (pl == tl && strncasecmp(p, tok, tl) == 0)
			return true;
		v += item + (comma ? 1 : 0);
		n -= item + (comma ? 1 : 0);
	}
	return false;
}

/*
 * Parse the request at the front of c->req and start its response. Returns 1 when a response was
 * started, 0 when more bytes are needed, -1 when the connection should be dropped.
 */
static int handle_request(struct server *s, struct conn *c)
{
	struct request rq;
	const char *p = c->req, *end, *line, *sp1, *sp2;
	size_t skip = 0, hdr_len, n;
	int hosts = 0, status, major, minor;
	bool has_body = false, conn_close = false, conn_keep = false;

	memset(&rq, 0, sizeof(rq));
	/* RFC 9112 §2.2: empty lines before the request line are ignored */
	while (skip < c->req_len && (p[skip] == '\r' || p[skip] == '\n'))
		skip++;
	if (skip) {
		memmove(c->req, c->req + skip, c->req_len - skip);
		c->req_len -= skip;
	}
	end = NULL;
	for (size_t i = 0; i + 1 < c->req_len; i++) {
		if (p[i] == '\n' && (p[i + 1] == '\n' || (p[i + 1] == '\r' && i + 2 < c->req_len && p[i + 2] == '\n'))) {
			end = p + i + (p[i + 1] == '\n' ? 2 : 3);
			break;
		}
	}
	if (!end) {
		if (c->req_len < REQ_MAX)
			return 0;
		c->keep_alive = false;
		return error_response(s, c, NULL, 431, NULL) == 0 ? 1 : -1;
	}
	hdr_len = (size_t)(end - p);
	c->keep_alive = false; /* until the request shows otherwise */
	if (memchr(p, '\0', hdr_len))
		goto bad;

	/* request-line = method SP request-target SP HTTP-version (RFC 9112 §3) */
	line = p;
	n = (size_t)((const char *)memchr(line, '\n', hdr_len) - line);
	if (n && line[n - 1] == '\r')
		n--;
	sp1 = memchr(line, ' ', n);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;
	if (!sp1 || !sp2 || memchr(sp2 + 1, ' ', n - (size_t)(sp2 + 1 - line)) ||
	    (size_t)(sp1 - line) >= sizeof(rq.method) || !is_token(line, (size_t)(sp1 - line)))
		goto bad;
	memcpy(rq.method, line, (size_t)(sp1 - line));
	if (n - (size_t)(sp2 + 1 - line) != 8 || strncmp(sp2 + 1, "HTTP/", 5) != 0 || sp2[6] < '0' ||
	    sp2[6] > '9' || sp2[7] != '.' || sp2[8] < '0' || sp2[8] > '9')
		goto bad;
	major = sp2[6] - '0';
	minor = sp2[8] - '0';
	if (major != 1) {
		status = major == 0 ? 400 : 505;
		goto error;
	}
	rq.minor = minor;
	status = parse_target(sp1 + 1, (size_t)(sp2 - sp1 - 1), &rq);
	if (status)
		goto error;

	/* header fields: name ":" OWS value OWS */
	for (line = line + n; line < end;) {
		const char *nl, *colon, *v;
		size_t vl;

		line += *line == '\r' ? 2 : 1;
		nl = memchr(line, '\n', (size_t)(end - line));
		n = (size_t)(nl - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		colon = memchr(line, ':', n);
		if (!colon || !is_token(line, (size_t)(colon - line)))
			goto bad; /* also obsolete line folding, RFC 9112 §5.2 */
		v = colon + 1;
		vl = n - (size_t)(v - line);
		trim(&v, &vl);
		if ((size_t)(colon - line) == 4 && strncasecmp(line, "host", 4) == 0) {
			hosts++;
		} else if ((size_t)(colon - line) == 10 && strncasecmp(line, "connection", 10) == 0) {
			conn_close |= has_token(v, vl, "close");
			conn_keep |= has_token(v, vl, "keep-alive");
		} else if ((size_t)(colon - line) == 14 && strncasecmp(line, "content-length", 14) == 0) {
			if (vl == 0)
				goto bad;
			for (size_t i = 0; i < vl; i++) {
				if (v[i] < '0' || v[i] > '9')
					goto bad;
				has_body |= v[i] != '0';
			}
		} else if ((size_t)(colon - line) == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
			has_body = true;
		}
		line += n;
	}
	/* RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is answered with 400 */
	if (minor >= 1 && hosts != 1)
		goto bad;
	c->keep_alive = !conn_close && (minor >= 1 || conn_keep);
	/* a body is not read: answer, then close, rather than parse the body as the next request */
	if (has_body)
		c->keep_alive = false;
	memmove(c->req, c->req + hdr_len, c->req_len - hdr_len);
	c->req_len -= hdr_len;
	s->requests++;

	if (strcmp(rq.method, "GET") == 0 || strcmp(rq.method, "HEAD") == 0) {
		rq.head = rq.method[0] == 'H';
		status = s->root ? serve_file(s, c, &rq) : serve_builtin(s, c, &rq);
		return status == 0 ? 1 : -1;
	}
	if (!strcmp(rq.method, "POST") || !strcmp(rq.method, "PUT") || !strcmp(rq.method, "DELETE") ||
	    !strcmp(rq.method, "OPTIONS") || !strcmp(rq.method, "PATCH") || !strcmp(rq.method, "TRACE") ||
	    !strcmp(rq.method, "CONNECT"))
		return error_response(s, c, &rq, 405, "Allow: GET, HEAD\r\n") == 0 ? 1 : -1;
	return error_response(s, c, &rq, 501, NULL) == 0 ? 1 : -1;

bad:
	status = 400;
error:
	c->req_len = 0; /* nothing after a bad request is read */
	s->requests++;
	return error_response(s, c, rq.method[0] ? &rq : NULL, status, NULL) == 0 ? 1 : -1;
}

/* Move the connection along as far as it goes without waiting: send, parse, answer. */
static void conn_progress(struct server *s, struct conn *c)
{
	for (;;) {
		int r;

		if (c->sending) {
			r = conn_write(s, c);
			if (r < 0) {
				conn_close(s, c);
				return;
			}
			if (r == 0) {
				conn_watch(s, c, EPOLLOUT);
				return;
			}
			end_response(c);
			if (!c->keep_alive) {
				conn_linger(s, c);
				return;
			}
			c->deadline = s->now + s->idle;
		}
		r = handle_request(s, c);
		if (r < 0) {
			conn_close(s, c);
			return;
		}
		if (r == 0) {
			conn_watch(s, c, EPOLLIN | EPOLLRDHUP);
			return;
		}
	}
}

static void conn_event(struct server *s, struct conn *c, uint32_t events)
{
	if (events & EPOLLERR) {
		conn_close(s, c);
		return;
	}
	if (c->lingering) {
		char scratch[4096];
		ssize_t n = us_recv(c->fd, scratch, sizeof(scratch), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			conn_close(s, c);
		return;
	}
	if (!c->sending && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))) {
		ssize_t n = us_recv(c->fd, c->req + c->req_len, REQ_MAX - c->req_len, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			conn_close(s, c); /* the client is gone; a partial request goes with it */
			return;
		}
		if (n > 0) {
			c->req_len += (size_t)n;
			c->deadline = s->now + s->idle;
		}
	}
	conn_progress(s, c);
}

static void accept_all(struct server *s, int lfd)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		struct epoll_event ev;
		struct conn *c;
		int fd = us_accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "httpd: accept: %s\n", strerror(errno));
			return;
		}
		c = s->nconns < s->max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			us_close(fd);
			continue;
		}
		c->fd = fd;
		c->file = -1;
		c->peer = peer;
		c->events = EPOLLIN | EPOLLRDHUP;
		c->deadline = s->now + s->idle;
		ev.events = c->events;
		ev.data.ptr = c;
		if (us_epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			us_close(fd);
			free(c);
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		s->accepted++;
	}
}

/* Close connections past their deadline: idle keep-alive ones, ones whose client stopped taking the
 * response, and lingering ones. */
static void expire(struct server *s, double now)
{
	struct conn *c = s->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (now >= c->deadline)
			conn_close(s, c);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "port", required_argument, NULL, 'p' },
					      { "root", required_argument, NULL, 'r' },
					      { "max-conns", required_argument, NULL, 'm' },
					      { "idle", required_argument, NULL, 'i' },
					      { "seconds", required_argument, NULL, 's' },
					      { "verbose", no_argument, NULL, 'v' },
					      EX_COMMON_LONGOPTS,
					      { NULL, 0, NULL, 0 } };
	static char root[PATH_MAX];
	struct server s = { .idle = 30, .max_conns = 1024 };
	struct epoll_event evs[64], lev;
	struct ex_opts o;
	struct us_stack *st;
	struct stat sb;
	long port = 80;
	double seconds = 0, end, next_expire = 0;
	int c, lfd;

	ex_opts_init(&o);
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		if (ex_opt(&o, c, optarg))
			continue;
		switch (c) {
		case 'p': port = ex_parse_port(optarg); break;
		case 'r':
			if (!realpath(optarg, root) || stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
				fprintf(stderr, "httpd: --root %s: not a directory\n", optarg);
				return 2;
			}
			s.root = strcmp(root, "/") == 0 ? "" : root;
			break;
		case 'm': s.max_conns = atol(optarg); break;
		case 'i': s.idle = atof(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'v': s.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port < 0 || s.max_conns < 1 || s.idle <= 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	st = ex_stack_start(&o, NULL);
	ex_signals();
	lfd = ex_listen(SOCK_STREAM, (uint16_t)port, 256);
	s.ep = us_epoll_create1(0);
	if (lfd < 0 || s.ep < 0) {
		fprintf(stderr, "httpd: %s: %s\n", lfd < 0 ? "listen" : "epoll_create", strerror(errno));
		if (lfd >= 0)
			us_close(lfd);
		return ex_stack_down(st, 1);
	}
	lev.events = EPOLLIN;
	lev.data.ptr = &listener_tag;
	us_epoll_ctl(s.ep, EPOLL_CTL_ADD, lfd, &lev);
	fprintf(stderr, "httpd: %s on %s, port %ld, serving %s\n", o.addr, o.tap, port,
		s.root ? root : "the built-in pages");
	end = seconds > 0 ? ex_seconds() + seconds : 0;
	while (!ex_stop) {
		double now = s.now = ex_seconds();
		int n;

		if (end && now >= end)
			break;
		if (now >= next_expire) {
			expire(&s, now);
			next_expire = now + 1;
		}
		n = us_epoll_wait(s.ep, evs, 64, 200);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "httpd: epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &listener_tag)
				accept_all(&s, lfd);
			else
				conn_event(&s, evs[i].data.ptr, evs[i].events);
		}
	}
	while (s.conns)
		conn_close(&s, s.conns);
	us_close(lfd);
	us_close(s.ep);
	fprintf(stderr, "httpd: %llu connections, %llu requests, %llu bytes sent\n",
		(unsigned long long)s.accepted, (unsigned long long)s.requests,
		(unsigned long long)s.bytes_sent);
	return ex_stack_down(st, 0);
}
