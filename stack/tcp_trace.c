/*
 * tcp_trace.c - congestion-control traces: one CSV row per event of a traced connection, with its
 * window, threshold, bytes in flight, RTT, RTO and retransmissions, for plotting
 * (scripts/plot_trace.sh) and for tests that check how a connection recovered.
 *
 * A connection is traced when its socket asked for it (US_TCP_TRACE, us_tcp_set_trace), when its
 * listener was traced, or when the stack was configured with tcp_trace_path (every connection into
 * one file, from the moment it is established). The trace state lives here, in a side table keyed
 * by the connection, so struct tcp_sock holds only the TF_TRACE bit: an untraced connection pays a
 * flag test per hook (tcp_trace() in tcp.h) and nothing else.
 *
 * Rows are written (tcp_trace_sample) on an ACK that changed cwnd or ssthresh (tcp_cc_ack), on a
 * fast retransmit (tcp_cc_enter_recovery), on a retransmission timeout (tcp_cc_timeout), on each
 * retransmitted segment where the output path reports it, and on state changes from ESTABLISHED on
 * (tcp_set_state). Several connections may share a file (the stack-wide one, or a listener's): the
 * conn column tells them apart, numbered from 1 in the order of their first rows. The time column
 * counts seconds from the file's first row, on the stack's clock (virtual time in tests).
 */
#include "tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ustack/proto.h"

#define TCP_TRACE_HEADER "time_s,conn,event,state,cwnd,ssthresh,flight,srtt_us,rto_us,retrans,mss\n"

struct tcp_trace_file {
	FILE *fp;
	char *path;	  /* NULL: the caller's FILE, flushed but never closed here */
	uint64_t t0_ns;	  /* stack time of the first row; the time column counts from it */
	bool started;	  /* a row was written: t0_ns is set */
	uint32_t refs;	  /* connections writing here, plus one for the stack's own file */
	uint32_t next_id; /* the conn column of the next connection to write its first row */
};

struct tcp_trace_conn {
	struct tcp_trace_conn *next; /* hash chain */
	const struct tcp_sock *tp;
	struct tcp_trace_file *file;
	uint32_t id;		 /* the conn column; 0 until the first row */
	uint32_t cwnd, ssthresh; /* as in the connection's last row, bytes */
	uint32_t rows;
};

struct tcp_trace_table {
	struct tcp_trace_conn **buckets;
	uint32_t mask;		    /* buckets - 1, a power of two minus one */
	uint32_t count;		    /* connections traced */
	struct tcp_trace_file *all; /* the stack-wide file (tcp_trace_path), or NULL */
};

static const char *const tcp_trace_event_names[] = {
	[TCP_TRACE_ACK] = "ack",
	[TCP_TRACE_FAST_RETRANS] = "fast_retransmit",
	[TCP_TRACE_RTO] = "rto",
	[TCP_TRACE_RETRANS] = "retransmit",
	[TCP_TRACE_STATE] = "state",
};

/* ---- files ---- */

/* A file with its header written: path created or truncated, or the caller's fp. NULL with errno. */
static struct tcp_trace_file *trace_file_open(const char *path, FILE *fp)
{
	struct tcp_trace_file *f = calloc(1, sizeof(*f));
	int err;

	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	f->next_id = 1;
	if (path) {
		f->path = strdup(path);
		if (!f->path) {
			free(f);
			errno = ENOMEM;
			return NULL;
		}
		f->fp = fopen(path, "w");
		if (!f->fp) {
			err = errno;
			free(f->path);
			free(f);
			errno = err;
			return NULL;
		}
	} else {
		f->fp = fp;
	}
	fputs(TCP_TRACE_HEADER, f->fp);
	fflush(f->fp); /* there at once, for whoever watches the file */
	return f;
}

static void trace_file_put(struct tcp_trace_file *f)
{
	if (--f->refs > 0)
		return;
	if (f->path)
		fclose(f->fp);
	else
		fflush(f->fp);
	free(f->path);
	free(f);
}

/* ---- the side table ---- */

static uint32_t trace_hash(const struct tcp_sock *tp)
{
	return (uint32_t)(((uint64_t)(uintptr_t)tp * 0x9e3779b97f4a7c15ull) >> 32);
}

static struct tcp_trace_table *trace_table(struct us_stack *st)
{
	struct tcp_trace_table *t = st->tcp->trace;

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buckets = calloc(64, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->mask = 63;
	st->tcp->trace = t;
	return t;
}

static struct tcp_trace_conn **trace_slot(struct tcp_trace_table *t, const struct tcp_sock *tp)
{
	struct tcp_trace_conn **pp = &t->buckets[trace_hash(tp) & t->mask];

	while (*pp && (*pp)->tp != tp)
		pp = &(*pp)->next;
	return pp;
}

static struct tcp_trace_conn *trace_find(const struct tcp_sock *tp)
{
	struct tcp_trace_table *t = tp->st->tcp->trace;

	return t ? *trace_slot(t, tp) : NULL;
}

/* Twice the buckets once there are twice as many connections as buckets; failing that, longer
 * chains. */
static void trace_grow(struct tcp_trace_table *t)
{
	uint32_t n = (t->mask + 1) * 2;
	struct tcp_trace_conn **b;

	if (t->count <= 2 * (t->mask + 1) || n > (1u << 24))
		return;
	b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i <= t->mask; i++) {
		while (t->buckets[i]) {
			struct tcp_trace_conn *c = t->buckets[i];
			t->buckets[i] = c->next;
			c->next = b[trace_hash(c->tp) & (n - 1)];
			b[trace_hash(c->tp) & (n - 1)] = c;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = n - 1;
}

/* Trace tp into f from now on (instead of wherever it went before). 0 or -ENOMEM. */
static int trace_attach(struct tcp_sock *tp, struct tcp_trace_file *f)
{
	struct tcp_trace_table *t = trace_table(tp->st);
	struct tcp_trace_conn *c;

	if (!t)
		return -ENOMEM;
	c = *trace_slot(t, tp);
	if (c && c->file == f)
		return 0;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return -ENOMEM;
		c->tp = tp;
		c->next = t->buckets[trace_hash(tp) & t->mask];
		t->buckets[trace_hash(tp) & t->mask] = c;
		t->count++;
		trace_grow(t);
	} else {
		trace_file_put(c->file);
	}
	f->refs++;
	c->file = f;
	c->id = 0; /* numbered at its first row: a listener that never writes takes no number */
	c->rows = 0;
	tp->flags |= TF_TRACE;
	return 0;
}

void tcp_trace_detach(struct tcp_sock *tp)
{
	struct tcp_trace_table *t = tp->st->tcp->trace;
	struct tcp_trace_conn **pp, *c;

	tp->flags &= (uint16_t)~TF_TRACE;
	if (!t || !(c = *(pp = trace_slot(t, tp))))
		return;
	*pp = c->next;
	t->count--;
	if (c->file->refs > 1)
		fflush(c->file->fp); /* a shared file: what this connection wrote can be read now */
	trace_file_put(c->file);
	free(c);
}

/* ---- the stack's file ---- */

int tcp_trace_init(struct us_stack *st)
{
	struct tcp_trace_table *t;
	struct tcp_trace_file *f;

	if (!st->cfg.tcp_trace_path)
		return 0;
	t = trace_table(st);
	if (!t)
		return -ENOMEM;
	f = trace_file_open(st->cfg.tcp_trace_path, NULL);
	if (!f)
		return -errno;
	f->refs = 1; /* the stack's */
	t->all = f;
	st->cfg.tcp_trace_path = f->path; /* the caller's string need not outlive the call */
	return 0;
}

void tcp_trace_destroy(struct us_stack *st)
{
	struct tcp_trace_table *t = st->tcp->trace;

	if (!t)
		return;
	/* every connection detached itself when freed; anything left goes the same way */
	for (uint32_t i = 0; i <= t->mask; i++) {
		while (t->buckets[i]) {
			struct tcp_trace_conn *c = t->buckets[i];
			t->buckets[i] = c->next;
			trace_file_put(c->file);
			free(c);
		}
	}
	if (t->all) {
		st->cfg.tcp_trace_path = NULL;
		trace_file_put(t->all);
	}
	free(t->buckets);
	free(t);
	st->tcp->trace = NULL;
}

/* ---- the user's switch ---- */

int tcp_trace_set(struct tcp_sock *tp, const char *path, FILE *fp)
{
	struct tcp_trace_file *f;
	int r;

	if (!path && !fp) {
		tcp_trace_detach(tp);
		return 0;
	}
	f = trace_file_open(path, fp);
	if (!f)
		return -errno;
	r = trace_attach(tp, f);
	if (r < 0) {
		f->refs = 1;
		trace_file_put(f);
	}
	return r;
}

int us_tcp_set_trace(struct us_tcp *t, const char *path, FILE *fp)
{
	if (!t || (path && fp))
		return -EINVAL;
	return tcp_trace_set((struct tcp_sock *)t, path, fp);
}

const char *tcp_trace_path(const struct tcp_sock *tp)
{
	const struct tcp_trace_conn *c = (tp->flags & TF_TRACE) ? trace_find(tp) : NULL;

	return c && c->file->path ? c->file->path : "";
}

/* ---- rows ---- */

static void trace_row(struct tcp_sock *tp, struct tcp_trace_conn *c, enum tcp_trace_event ev)
{
	struct tcp_trace_file *f = c->file;
	uint64_t now = tp->st->now, dt;

	if (!f->started) {
		f->t0_ns = now;
		f->started = true;
	}
	dt = now > f->t0_ns ? now - f->t0_ns : 0;
	if (!c->id)
		c->id = f->next_id++;
	fprintf(f->fp, "%llu.%06llu,%u,%s,%s,%u,%u,%u,%u,%u,%u,%u\n",
		(unsigned long long)(dt / US_NSEC_PER_SEC),
		(unsigned long long)(dt % US_NSEC_PER_SEC / 1000), c->id, tcp_trace_event_names[ev],
		tcp_state_name(tp->state), tp->cwnd, tp->ssthresh, tcp_flight(tp), tp->srtt_us,
		tp->rto_us, tp->total_retrans, tp->mss);
	c->cwnd = tp->cwnd;
	c->ssthresh = tp->ssthresh;
	c->rows++;
}

void tcp_trace_sample(struct tcp_sock *tp, enum tcp_trace_event ev)
{
	struct tcp_trace_conn *c = trace_find(tp);

	if (!c)
		return;
	/* an ACK makes a row only when it moved the window: slow start, a step of congestion
	 * avoidance, or the first ACK after recovery (whose window tcp_input.c set) */
	if (ev == TCP_TRACE_ACK && c->rows && c->cwnd == tp->cwnd && c->ssthresh == tp->ssthresh)
		return;
	trace_row(tp, c, ev);
}

void tcp_trace_state(struct tcp_sock *tp)
{
	struct tcp_trace_table *t = tp->st->tcp->trace;
	struct tcp_trace_conn *c;

	if (!t)
		return;
	if (!(tp->flags & TF_TRACE) && tp->state == TCP_ESTABLISHED) {
		/* a listener's trace goes on in its children (Linux's sockets inherit their
		 * listener's options); else the stack's file, if any */
		struct tcp_trace_conn *pc = tp->parent && (tp->parent->flags & TF_TRACE)
						    ? trace_find(tp->parent)
						    : NULL;
		struct tcp_trace_file *f = pc ? pc->file : t->all;

		if (!f || trace_attach(tp, f) < 0)
			return;
	}
	c = (tp->flags & TF_TRACE) ? *trace_slot(t, tp) : NULL;
	if (!c)
		return;
	/* rows from ESTABLISHED on: before it there is no window yet */
	if (tp->state < TCP_ESTABLISHED && !(tp->state == TCP_CLOSED && c->rows))
		return;
	trace_row(tp, c, TCP_TRACE_STATE);
	if (tp->state == TCP_TIME_WAIT || tp->state == TCP_CLOSED)
		fflush(c->file->fp); /* the connection is over: its rows are all there */
}
