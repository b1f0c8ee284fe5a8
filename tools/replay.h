/*
 * replay.h - the parts of ustack-replay, between its files:
 *
 *   replay_pkt.c   a small parser of the frames in and out (Ethernet, ARP, IPv4, ICMP, UDP, TCP and
 *                  its options), one length gate per layer, and one-line summaries
 *   replay_dev.c   the stack's device: it receives the input frames on their times, learns each TCP
 *                  connection's ISN and first TSval from what the stack sends, rewrites the relative
 *                  numbers of what the peer sends, and records every frame sent for the comparison
 *                  before the pcap device writes it to OUT
 *   replay_cmp.c   reads the expected capture and compares it with the recorded frames, field by field
 *   replay_app.c   the applications on the stack: listeners, UDP sockets, active opens (socket API,
 *                  non-blocking, on a driven stack)
 *   ustack-replay.c  options, set-up, and the loop on virtual time
 *
 * Inputs are hostile (any pcap a user gives): nothing is read before the length gate of its layer.
 */
#ifndef USTACK_REPLAY_H
#define USTACK_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

/* ---- big-endian access ---- */

static inline uint16_t rp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void rp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void rp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- replay_pkt.c: parsing ---- */

enum rp_layer {
	RP_ETH = 1u << 0,
	RP_ARP = 1u << 1,
	RP_IP = 1u << 2,
	RP_ICMP = 1u << 3,
	RP_UDP = 1u << 4,
	RP_TCP = 1u << 5,
};

#define RP_TCPF_FIN 0x01
#define RP_TCPF_SYN 0x02
#define RP_TCPF_RST 0x04
#define RP_TCPF_PSH 0x08
#define RP_TCPF_ACK 0x10
#define RP_TCPF_URG 0x20

#define RP_TCPOPT_EOL 0
#define RP_TCPOPT_NOP 1
#define RP_TCPOPT_MSS 2
#define RP_TCPOPT_WS 3
#define RP_TCPOPT_SACKOK 4
#define RP_TCPOPT_SACK 5
#define RP_TCPOPT_TS 8
#define RP_MAX_TCPOPT 40 /* at most 40 bytes of options, so at most 40 options */

struct rp_tcpopt {
	uint8_t kind;
	uint8_t len;  /* 1 for EOL and NOP */
	uint32_t off; /* of the kind byte, from the start of the frame */
};

/*
 * A parsed frame. Offsets count from the start of the frame; after rp_parse every offset and length
 * below is within the frame for each layer bit set, so readers need no further checks. A layer that
 * did not pass its gate is left out of `layers` and `err` says why; the bytes past the last good
 * header are the payload.
 */
struct rp_pkt {
	const uint8_t *p;
	uint32_t len;	 /* bytes of the frame */
	unsigned layers; /* enum rp_layer bits */
	const char *err; /* why parsing stopped before the transport's payload, or NULL */
	uint16_t ethertype;
	uint32_t l3;	  /* ARP or IPv4 header */
	uint32_t l3_len;  /* bytes that belong to it (IPv4 total length; 28 for ARP) */
	uint32_t ihl;	  /* IPv4 header bytes */
	bool frag;	  /* an IPv4 fragment (MF or an offset): the transport is not parsed */
	uint8_t proto;	  /* IPv4 protocol */
	uint32_t l4;	  /* transport header */
	uint32_t l4_len;  /* transport bytes (the IPv4 payload) */
	uint32_t thl;	  /* transport header bytes: 8 (ICMP, UDP) or the TCP data offset */
	uint32_t pay;	  /* payload after the last parsed header */
	uint32_t pay_len;
	int nopt;	  /* TCP options, in order (EOL ends the list) */
	struct rp_tcpopt opt[RP_MAX_TCPOPT];
	bool opt_bad;	  /* an option with a bad length: the list stops there */
	int ts;		  /* index of the timestamps option in opt[], or -1 */
};

void rp_parse(struct rp_pkt *k, const uint8_t *p, uint32_t len);
/* The Internet checksum (RFC 1071) of a buffer, folded, not complemented, starting from sum. */
uint32_t rp_csum_add(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t rp_csum_fold(uint32_t sum);
/* Whether the IPv4 header / the transport checksum of a parsed frame is right. A transport
 * checksum can be checked only in an unfragmented datagram; UDP's 0 means none (RFC 768). */
bool rp_ip_csum_ok(const struct rp_pkt *k);
bool rp_l4_csum_ok(const struct rp_pkt *k);
/* The checksum the field should hold (for messages). */
uint16_t rp_ip_csum_want(const struct rp_pkt *k);
uint16_t rp_l4_csum_want(const struct rp_pkt *k);
/* "TCP 198.18.0.2:80 > 198.18.0.1:40000 [FA] seq 15 ack 3016" and the like. */
void rp_summary(const struct rp_pkt *k, char *buf, size_t n);
/* "[MSS 1460, SAckOK, TS 0 1000, NOP, WScale 7]" */
void rp_tcp_options_str(const struct rp_pkt *k, char *buf, size_t n);
void rp_tcp_flags_str(uint8_t flags, char *buf);
const char *rp_ipv4_str(uint32_t a, char *buf);

/* ---- recorded frames ---- */

struct rp_frame {
	uint8_t *data;	/* the frame as sent (OUT), or as read (EXP) */
	uint8_t *norm;	/* sent frames: a copy with the stack's TCP numbers made relative; else NULL */
	uint32_t len;
	int64_t t_ns;	/* from the first input frame */
	bool rel;	/* norm differs from data (relative numbers applied) */
	uint32_t index; /* 1-based position in its capture */
};

struct rp_frames {
	struct rp_frame *v;
	size_t n, cap;
};

int rp_frames_push(struct rp_frames *fs, const uint8_t *data, uint32_t len, int64_t t_ns);
void rp_frames_free(struct rp_frames *fs);

/* ---- replay_dev.c: the relative-numbers device ---- */

struct rp_dev_config {
	struct netdev *lower; /* the pcap device (output only); the replay device owns it from now on */
	const struct rp_frames *in; /* the input frames, times from the first one; kept by the caller */
	uint64_t t0_ns;	      /* stack-clock time of the first input frame */
	bool relative;	      /* rewrite the peer's ACK numbers, TS echoes and SACK edges */
	bool verbose;	      /* print each frame in and out */
	struct rp_frames *out; /* where sent frames are recorded */
};

/* A device wrapping the pcap device. NULL with errno; on failure the caller keeps lower. */
struct netdev *rp_dev_open(const struct rp_dev_config *cfg, const struct netdev_config *base);
/* From now on frames sent are freed, neither recorded nor written (for the teardown). */
void rp_dev_mute(struct netdev *dev);

/* ---- replay_cmp.c: the comparison ---- */

enum rp_field {
	RP_F_ETH_SRC,
	RP_F_ETH_DST,
	RP_F_IP_ID,
	RP_F_IP_TTL,
	RP_F_IP_CSUM,
	RP_F_IP_FLAGS,
	RP_F_TCP_SEQ,
	RP_F_TCP_ACK,
	RP_F_TCP_WINDOW,
	RP_F_TCP_TSVAL,
	RP_F_TCP_TSECR,
	RP_F_TCP_OPTIONS,
	RP_F_TCP_CSUM,
	RP_F_UDP_CSUM,
	RP_F_ICMP_CSUM,
	RP_F_PAYLOAD,
	RP_F_TIME,
	RP_F_MAX,
};

struct rp_cmp_config {
	bool ignore[RP_F_MAX];
	double tolerance_ms;
	uint32_t stack_addr; /* for the announcement rule */
	unsigned max_lines;  /* diff lines printed at most */
};

/* "tcp.seq" -> RP_F_TCP_SEQ, or -1. */
int rp_field_by_name(const char *name);
const char *rp_field_name(enum rp_field f);
/* Read a capture's frames, times relative to t0_ns. 0, or -1 with a message on stderr. */
int rp_read_pcap(const char *path, int64_t t0_ns, struct rp_frames *fs);
/* Compare what was sent with what was expected; the diff goes to stderr. Returns the number of
 * mismatches (0: everything matched). */
unsigned rp_compare(const struct rp_cmp_config *cfg, const struct rp_frames *got,
		    const struct rp_frames *exp);

/* ---- replay_app.c: the applications ---- */

enum rp_action {
	RP_ACT_DISCARD = 0,
	RP_ACT_ECHO,
	RP_ACT_SEND,
	RP_ACT_CLOSE,
};

struct rp_app;

struct rp_app *rp_app_new(struct us_stack *st);
void rp_app_free(struct rp_app *app);
/* 0, or -errno (the port could not be bound or listened on). */
int rp_app_listen(struct rp_app *app, uint16_t port, enum rp_action act, uint64_t n);
int rp_app_udp(struct rp_app *app, uint16_t port, enum rp_action act);
/* An active open to addr:port from lport (0: an ephemeral port); send n bytes once established.
 * 0 or -errno. */
int rp_app_connect(struct rp_app *app, uint32_t addr, uint16_t port, uint16_t lport, uint64_t n);
/* Accept, read, write and close what can be at this instant. Returns true if anything moved. */
bool rp_app_service(struct rp_app *app);

#endif
