/*
 * pkttrace_decode.c - the packet trace's decoder over a pcap file: one line per frame, as the trace
 * prints it without the time, direction and device. pkttrace_vs_tcpdump.py sets these lines beside
 * what `tcpdump -nn -S` prints for the same file.
 *
 * Usage: pkttrace_decode [-e] FILE.pcap     (-e: the link header too, as tcpdump -e)
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "pkttrace.h"

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE], line[PKTTRACE_LINE_MAX];
	unsigned flags = 0;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	int argi = 1, r;

	if (argc > 1 && strcmp(argv[1], "-e") == 0) {
		flags |= US_PKTTRACE_LINK;
		argi++;
	}
	if (argi != argc - 1) {
		fprintf(stderr, "usage: pkttrace_decode [-e] FILE.pcap\n");
		return 2;
	}
	p = pcap_open_offline(argv[argi], err);
	if (!p) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "%s: not Ethernet\n", argv[argi]);
		pcap_close(p);
		return 1;
	}
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		pkttrace_decode(line, sizeof(line), data, h->caplen, flags);
		printf("%s\n", line);
	}
	pcap_close(p);
	return r == -2 ? 0 : 1;
}
