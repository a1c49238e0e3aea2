/* forwarded.h: who a request is from when trusted proxies stand between:
 * Forwarded (RFC 7239) or X-Forwarded-For/-Proto/-Host, and --trusted-proxy. */
#ifndef TICKERD_FORWARDED_H
#define TICKERD_FORWARDED_H

#include "request.h"

struct cfg;

#define FWD_IP_LEN 48

/*
 * The client a request is judged by: its address (limits, logs, metrics)
 * and the host and scheme its page's Origin must match to be tickerd's
 * own.  Strings point into the request: they live as long as it does.
 */
struct fwd_client {
	char ip[FWD_IP_LEN]; /* canonical text */
	struct req_str
	    host; /* host[:port] the browser asked for; p NULL: none */
	struct req_str proto;   /* "http" or "https"; p NULL: either */
	unsigned via_proxy : 1; /* a trusted proxy said so */
	unsigned any_port : 1;  /* the proxy passed host without its port */
};

/*
 * fwd_trusted() - 1 if the address ip (text, IPv4 or IPv6; an IPv4-mapped
 * IPv6 address counts as its IPv4) is within one of c's --trusted-proxy
 * ranges.
 */
int fwd_trusted(const struct cfg *c, const char *ip);

/*
 * fwd_resolve() - the client of request r that came from peer (the TCP
 * peer, or the address a PROXY header gave).  From a peer that is not a
 * trusted proxy, the peer and r's Host.  From a trusted one: the
 * right-most address of Forwarded's for= (else X-Forwarded-For) that is
 * not itself a trusted proxy (an entry that is not an address stops the
 * walk at the last one that was), with the host= and proto= of that
 * element (else X-Forwarded-Host and -Proto, their left-most value); when
 * the host has no port the Origin's port is not compared (any_port).
 */
void fwd_resolve(struct fwd_client *w, const struct request *r,
                 const char *peer, const struct cfg *c);

#endif
