/*
 * ustack.h - the umbrella header: everything a program that uses ustack needs.
 */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include "ustack/clock.h"
#include "ustack/latency.h"
#include "ustack/netdev.h"
#include "ustack/proto.h"
#include "ustack/ring.h"
#include "ustack/skb.h"
#include "ustack/socket.h"
#include "ustack/stack.h"
#include "ustack/stats.h"
#include "ustack/trace.h"

#define USTACK_VERSION_MAJOR 0
#define USTACK_VERSION_MINOR 1
#define USTACK_VERSION_PATCH 0

#endif
