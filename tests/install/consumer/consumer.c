/* A program built against an installed ustack: it moves one frame over an in-memory pair. */
#include <stdio.h>
#include <string.h>
#include <ustack/ustack.h>

int main(void)
{
	struct skb_pool *pool = skb_pool_create(NULL);
	struct us_clock clock;
	struct netdev_pair_config cfg = { 0 };
	struct netdev *a, *b;
	struct sk_buff *skb, *got = NULL;

	us_clock_init_virtual(&clock, 0);
	cfg.a = (struct netdev_config){ .pool = pool, .clock = &clock };
	cfg.b = cfg.a;
	if (!pool || netdev_pair_create(&cfg, &a, &b) != 0)
		return 1;
	skb = skb_alloc(pool, SKB_MAX_HEADER + 64);
	skb_reserve(skb, SKB_MAX_HEADER);
	memset(skb_put(skb, 64), 0xab, 64);
	netdev_xmit(a, skb);
	netdev_flush(a);
	netdev_poll(b, 8);
	if (netdev_rx_burst(b, &got, 1) != 1 || got->len != 64 || got->data[63] != 0xab)
		return 1;
	skb_free(got);
	netdev_close(a);
	netdev_close(b);
	if (skb_pool_destroy(pool) != 0)
		return 1;
	printf("consumer: ustack %d.%d.%d works\n", USTACK_VERSION_MAJOR, USTACK_VERSION_MINOR,
	       USTACK_VERSION_PATCH);
	return 0;
}
