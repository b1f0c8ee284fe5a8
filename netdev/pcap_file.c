/*
 * pcap_file.c - the pcap writer behind the pcap device and the capture wrapper, through libpcap's
 * dump API so that tshark and Wireshark read the result.
 */
#include "pcap_file.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#define PCAP_FILE_SNAPLEN 262144

struct pcap_file {
	pcap_t *dead;
	pcap_dumper_t *dumper;
};

struct pcap_file *pcap_file_create(const char *path)
{
	struct pcap_file *pf = calloc(1, sizeof(*pf));

	if (!pf) {
		errno = ENOMEM;
		return NULL;
	}
	pf->dead = pcap_open_dead(DLT_EN10MB, PCAP_FILE_SNAPLEN);
	if (!pf->dead) {
		free(pf);
		errno = ENOMEM;
		return NULL;
	}
	pf->dumper = pcap_dump_open(pf->dead, path);
	if (!pf->dumper) {
		pcap_close(pf->dead);
		free(pf);
		errno = EIO;
		return NULL;
	}
	return pf;
}

int pcap_file_write(struct pcap_file *pf, const struct sk_buff *skb, uint64_t ns)
{
	struct pcap_pkthdr h;

	h.ts.tv_sec = (time_t)(ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)((ns % 1000000000ull) / 1000ull);
	h.caplen = skb->len;
	h.len = skb->len;
	pcap_dump((u_char *)pf->dumper, &h, skb->data);
	return 0;
}

void pcap_file_close(struct pcap_file *pf)
{
	if (!pf)
		return;
	pcap_dump_close(pf->dumper);
	pcap_close(pf->dead);
	free(pf);
}
