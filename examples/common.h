/*
 * common.h - what every example shares: the standard options (--tap, --addr, --gw, --pcap, --mac,
 * --help), bringing a stack up on a TAP device with them, and stopping on SIGINT/SIGTERM.
 */
#ifndef USTACK_EXAMPLES_COMMON_H
#define USTACK_EXAMPLES_COMMON_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include <ustack/ustack.h>

struct ex_opts {
	const char *tap;  /* default "tap0" */
	const char *addr; /* "A/LEN", default 198.18.0.2/24 */
	const char *gw;	  /* default route via, or NULL */
	const char *pcap; /* capture file, or NULL */
	const char *mac;  /* the stack's MAC, or NULL for a random one */
};

/* The long options every example accepts, to append to its own; values 0x100.. are taken. */
#define EX_COMMON_LONGOPTS                                                                       \
	{ "tap", required_argument, NULL, 0x100 }, { "addr", required_argument, NULL, 0x101 },     \
	{ "gw", required_argument, NULL, 0x102 }, { "pcap", required_argument, NULL, 0x103 },      \
	{ "mac", required_argument, NULL, 0x104 }, { "help", no_argument, NULL, 'h' }

#define EX_COMMON_HELP                                                                           \
	"  --tap NAME      TAP device to create or attach to (default tap0)\n"                      \
	"  --addr A/LEN    the stack's address and prefix (default 198.18.0.2/24)\n"                \
	"  --gw ADDR       default gateway\n"                                                        \
	"  --pcap FILE     write every frame, both directions, to FILE\n"                           \
	"  --mac MAC       the stack's MAC (default: random, locally administered)\n"               \
	"  --help          this text\n"

extern volatile sig_atomic_t ex_stop;

void ex_opts_init(struct ex_opts *o);
/* Take one of the common options; returns 1 if c was one, 0 if not. Exits on a bad value. */
int ex_opt(struct ex_opts *o, int c, const char *arg);
/* A stack on the TAP device with the address, gateway and capture asked for; exits on failure. */
struct us_stack *ex_stack_up(const struct ex_opts *o, uint32_t *addr);
/* Install SIGINT/SIGTERM handlers that set ex_stop. */
void ex_signals(void);
/* Print the counters and tear the stack down; returns the exit status (1 if skbs leaked). */
int ex_stack_down(struct us_stack *st, int status);

#endif
