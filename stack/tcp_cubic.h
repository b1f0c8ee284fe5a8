/*
 * tcp_cubic.h - CUBIC's per-connection state and its two equations (RFC 9438 §4.2), for
 * tcp_cubic.c and its tests. Not a public header.
 */
#ifndef USTACK_TCP_CUBIC_H
#define USTACK_TCP_CUBIC_H

#include <stdint.h>

#include "tcp.h"

/* In tcp_sock.cc_priv while the connection runs CUBIC. Windows in bytes, times in milliseconds. */
struct tcp_cubic {
	uint32_t w_max;	     /* W_max; 0: none yet (the next epoch takes cwnd_epoch, §4.8) */
	int32_t k_ms;	     /* K; negative when the epoch starts above W_max */
	uint32_t epoch_ms;   /* t_epoch: the stack's clock in milliseconds, modulo 2^32 */
	uint32_t w_est;	     /* W_est; 0: no epoch (the next ACK in avoidance starts one) */
	uint32_t w_est_cnt;  /* bytes acknowledged toward W_est's next segment */
	uint32_t cwnd_prior; /* cwnd when ssthresh was last set (§4.3's switch to alpha_cubic = 1) */
};

_Static_assert(sizeof(struct tcp_cubic) <= TCP_CC_PRIV_SIZE, "CUBIC's state fits in tcp_sock.cc_priv");

static inline struct tcp_cubic *tcp_cubic_state(struct tcp_sock *tp)
{
	return (struct tcp_cubic *)(void *)tp->cc_priv;
}

/* Eq. 2: K = cubic_root((W_max - cwnd_epoch) / C), C = 0.4 segments/s^3, in milliseconds, of
 * either sign; windows in bytes of mss-byte segments. */
int32_t tcp_cubic_k_ms(uint32_t w_max, uint32_t cwnd_epoch, uint16_t mss);
/* Eq. 1: W_cubic(t) = C * (t - K)^3 + W_max in bytes, t in milliseconds since t_epoch (0 when it
 * would be negative). */
uint64_t tcp_cubic_w(const struct tcp_cubic *ca, uint16_t mss, int64_t t_ms);

#endif
