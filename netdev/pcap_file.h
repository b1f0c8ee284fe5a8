/*
 * pcap_file.h - writing Ethernet frames to a pcap file, shared by the pcap device and the capture
 * wrapper. Internal.
 */
#ifndef USTACK_PCAP_FILE_H
#define USTACK_PCAP_FILE_H

#include <stdint.h>

#include "ustack/skb.h"

struct pcap_file;

/* Open `path` for writing (LINKTYPE_ETHERNET, microsecond timestamps). NULL with errno set. */
struct pcap_file *pcap_file_create(const char *path);
/* Append the frame [skb->data, skb->tail) stamped with ns (nanoseconds). 0 or -EIO. */
int pcap_file_write(struct pcap_file *pf, const struct sk_buff *skb, uint64_t ns);
/* Flush and close. NULL is a no-op. */
void pcap_file_close(struct pcap_file *pf);

#endif
