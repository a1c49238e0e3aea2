/* proxyproto.h: the PROXY protocol header (v1 text, v2 binary) a proxy
 * sends before a connection's first byte, naming the client it stands for. */
#ifndef TICKERD_PROXYPROTO_H
#define TICKERD_PROXYPROTO_H

#include <stddef.h>

#define PROXY_V1_MAX     107  /* a v1 line, "PROXY" to CRLF, at most */
#define PROXY_V2_HEAD    16   /* v2: signature, version, family, length */
#define PROXY_V2_LEN_MAX 4096 /* v2 addresses + TLVs tickerd reads, at most */
#define PROXY_IP_LEN     46   /* INET6_ADDRSTRLEN */

/* What a whole header said. */
struct proxy_hdr {
	int version; /* 1 or 2 */
	/*
	 * No client address given (v1 UNKNOWN, v2 LOCAL, an unspecified or
	 * a UNIX family: a proxy's own health check): the connection keeps
	 * its peer's address.
	 */
	int local;
	char src[PROXY_IP_LEN]; /* the client's address, canonical text */
	unsigned src_port;
};

enum proxy_result {
	PROXY_OK = 0,         /* a whole header: *used bytes of it */
	PROXY_INCOMPLETE = 1, /* a header so far: read more */
	PROXY_BAD = -1,       /* not a PROXY header, or one too long */
};

/*
 * proxy_parse() - read the PROXY header at the start of buf[0..len):
 * PROXY_OK with h filled and *used the header's bytes (what follows is
 * the client's), PROXY_INCOMPLETE while every byte so far may still begin
 * one, or PROXY_BAD as soon as none can (garbage, a v1 line past
 * PROXY_V1_MAX, a v2 length past PROXY_V2_LEN_MAX, an address that is
 * not one).  v2 TLVs are skipped.
 */
enum proxy_result proxy_parse(const void *buf, size_t len, struct proxy_hdr *h,
                              size_t *used);

#endif
