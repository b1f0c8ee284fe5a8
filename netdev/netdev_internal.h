/*
 * netdev_internal.h - helpers shared by the device backends. Internal.
 */
#ifndef USTACK_NETDEV_INTERNAL_H
#define USTACK_NETDEV_INTERNAL_H

#include "ustack/netdev.h"

/* A wrapper device over lower, taking over its name, MAC, MTU, features, pool, clock and ring sizes.
 * The wrapper's close op must close lower (when set). NULL with errno. */
struct netdev *netdev_wrap(const struct netdev_ops *ops, struct netdev *lower, size_t priv_size);

#endif
