/*
 * common.h - what every example shares: the standard options (--tap, --addr, --gw, --pcap, --mac,
 * the faults --loss, --dup, --reorder, --corrupt, --fault-seed, --pkttrace, --vnet-hdr (TAP
 * offloads), watching the stack with
 * --ctl and --stats-every, and --help), bringing a stack up on a TAP device with them, dumping its
 * counters and sockets on SIGUSR1, stopping on SIGINT/SIGTERM, and a few
 * helpers for the socket examples (addresses, timed waits on a descriptor, connect with a timeout).
 */
#ifndef USTACK_EXAMPLES_COMMON_H
#define USTACK_EXAMPLES_COMMON_H

#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ustack/ustack.h>

struct ex_opts {
	const char *tap;  /* default "tap0" */
	const char *addr; /* "A/LEN", default 198.18.0.2/24 */
	const char *gw;	  /* default route via, or NULL */
	const char *pcap; /* capture file, or NULL */
	const char *mac;  /* the stack's MAC, or NULL for a random one */
	uint32_t tcp_retries;	/* us_stack_config.tcp_retries2; 0: the stack's default */
	uint64_t rto_max_ms;	/* us_stack_config.tcp_rto_max_ns, milliseconds; 0: the default */
	bool tw_reuse;		/* us_stack_config.tcp_tw_reuse */
	/* the fault wrapper on the TAP device, both directions (netdev_fault_config); all 0: none */
	double loss, dup, reorder, corrupt;
	uint64_t fault_seed; /* default 1 */
	bool latency;	     /* per-layer timing on, its table printed at exit (ustack/latency.h) */
	bool pkttrace;	     /* --pkttrace: every frame and TCP state change on stderr */
	const char *ctl;     /* the control channel's socket path (us_stack_ctl_open), or NULL */
	double stats_every;  /* seconds between dumps to stderr; 0: none */
	bool vnet_hdr;	     /* --vnet-hdr: TAP offloads (IFF_VNET_HDR, checksum, TSO4; docs/offload.md) */
};

/* The long options every example accepts, to append to its own; values 0x100.. are taken.
 * Two of them are left out of --help, being for tests that want a dead peer noticed in seconds:
 * --tcp-retries N (RTO expirations before a connection fails with ETIMEDOUT, Linux's tcp_retries2)
 * and --rto-max-ms N (the retransmission timeout's ceiling). --tcp-tw-reuse lets connects take over
 * TIME-WAIT ports (Linux's net.ipv4.tcp_tw_reuse = 1), for benchmarks of connections per second. */
#define EX_COMMON_LONGOPTS                                                                       \
	{ "tap", required_argument, NULL, 0x100 }, { "addr", required_argument, NULL, 0x101 },     \
	{ "gw", required_argument, NULL, 0x102 }, { "pcap", required_argument, NULL, 0x103 },      \
	{ "mac", required_argument, NULL, 0x104 }, { "help", no_argument, NULL, 'h' },             \
	{ "tcp-retries", required_argument, NULL, 0x105 },                                         \
	{ "rto-max-ms", required_argument, NULL, 0x106 },                                          \
	{ "tcp-tw-reuse", no_argument, NULL, 0x107 },                                              \
	{ "loss", required_argument, NULL, 0x108 }, { "dup", required_argument, NULL, 0x109 },     \
	{ "reorder", required_argument, NULL, 0x10a },                                             \
	{ "corrupt", required_argument, NULL, 0x10b },                                             \
	{ "fault-seed", required_argument, NULL, 0x10c },                                          \
	{ "latency", no_argument, NULL, 0x10d },                                                   \
	{ "pkttrace", no_argument, NULL, 0x130 },                                                  \
	{ "stats-every", required_argument, NULL, 0x10e }, { "ctl", required_argument, NULL, 0x10f }, \
	{ "vnet-hdr", no_argument, NULL, 0x131 }

#define EX_COMMON_HELP                                                                           \
	"  --tap NAME      TAP device to create or attach to (default tap0)\n"                      \
	"  --addr A/LEN    the stack's address and prefix (default 198.18.0.2/24)\n"                \
	"  --gw ADDR       default gateway\n"                                                        \
	"  --pcap FILE     write every frame, both directions, to FILE\n"                           \
	"  --mac MAC       the stack's MAC (default: random, locally administered)\n"               \
	"  --loss P        drop each frame, in and out, with probability P (0..1)\n"                \
	"  --dup P         send each frame twice with probability P\n"                              \
	"  --reorder P     hold a frame back behind the next one with probability P\n"              \
	"  --corrupt P     flip one bit of a frame with probability P (checksums catch it)\n"     \
	"  --fault-seed N  the faults' random seed (default 1); their counters print at exit\n"   \
	"  --latency       time every packet layer by layer; the table prints at exit\n"          \
	"  --pkttrace      print every frame in and out, decoded, and TCP state changes to stderr\n" \
	"  --vnet-hdr      TAP offloads: 64 KB TCP frames and partial checksums both ways\n"        \
	"                  (IFF_VNET_HDR; --pcap then records 64 KB frames, the faults harm them whole)\n" \
	"  --stats-every S print the counters and the socket table to stderr every S seconds\n"   \
	"                  (SIGUSR1 prints them at once)\n"                                         \
	"  --ctl PATH      answer ustack-stat on the UNIX socket PATH\n"                            \
	"  --help          this text\n"

extern volatile sig_atomic_t ex_stop;

void ex_opts_init(struct ex_opts *o);
/* Take one of the common options; returns 1 if c was one, 0 if not. Exits on a bad value. */
int ex_opt(struct ex_opts *o, int c, const char *arg);
/* A stack on the TAP device with the address, gateway and capture asked for; exits on failure. */
struct us_stack *ex_stack_up(const struct ex_opts *o, uint32_t *addr);
/* ex_stack_up, then make the stack the default one (us_socket, us_epoll_create) and run its loop in a
 * background thread, so blocking socket calls sleep. SIGINT and SIGTERM stay with the calling thread.
 * SIGUSR1 (any thread) prints the counters and the socket table to stderr (us_stack_request_dump);
 * --ctl opens the control channel, --stats-every starts the periodic dump. */
struct us_stack *ex_stack_start(const struct ex_opts *o, uint32_t *addr);
/* Install SIGINT/SIGTERM handlers that set ex_stop. They do not restart system calls, so a blocked
 * read(2) of stdin returns EINTR. */
void ex_signals(void);
/* Stop the stack's thread if ex_stack_start started it, print the counters (the fault wrapper's too:
 * "Fault: rx_dropped=N ..."; with --latency the latency table) and tear the stack down;
 * returns the exit status (1 if skbs leaked). Close every socket first. */
int ex_stack_down(struct us_stack *st, int status);

/* ---- helpers for the socket examples ---- */

/* A port 1..65535, or -1. */
long ex_parse_port(const char *s);
/* "A.B.C.D" or "A.B.C.D:PORT" (default_port when there is no port; 0: a port is required); numeric
 * IPv4 only. 0 or -1. */
int ex_parse_sockaddr(const char *s, uint16_t default_port, struct sockaddr_in *sin);
/* "A.B.C.D:PORT" into buf, which holds at least EX_ADDRSTRLEN bytes; returns buf. */
#define EX_ADDRSTRLEN 22
char *ex_format_sockaddr(const struct sockaddr_in *sin, char *buf);
/* A byte count: digits with an optional K, M or G (powers of 1024). 0 or -1. */
int ex_parse_size(const char *s, uint64_t *out);
/* Seconds on the monotonic clock. */
double ex_seconds(void);
/* Wait until the ustack descriptor fd has one of events (POLLIN, POLLOUT) or an error or hang-up,
 * at most timeout_ms (-1: no limit), looking at ex_stop every 100 ms. Returns the revents; 0 on
 * timeout; -1 with errno EINTR once ex_stop is set (or us_poll's errno). */
int ex_wait_fd(int fd, short events, int timeout_ms);
/* A TCP connection to `to`, made within timeout_ms: returns a non-blocking socket, or -1 with errno
 * (ETIMEDOUT, ECONNREFUSED, EINTR when stopped, ...). */
int ex_tcp_connect(const struct sockaddr_in *to, int timeout_ms);
/* A non-blocking socket of type (SOCK_STREAM: listening with backlog; SOCK_DGRAM) bound to port on
 * every address, SO_REUSEADDR set. -1 with errno. */
int ex_listen(int type, uint16_t port, int backlog);
/* Send all len bytes on a non-blocking socket, waiting at most timeout_ms each time the send buffer
 * is full. 0, or -1 with errno (ETIMEDOUT, EPIPE, ECONNRESET, EINTR, ...). */
int ex_send_all(int fd, const void *buf, size_t len, int timeout_ms);

#endif
