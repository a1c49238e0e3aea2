/* resp.h: reading Redis replies (RESP2) just well enough to SUBSCRIBE. */
#ifndef BENCH_RESP_H
#define BENCH_RESP_H

#include <stddef.h>

#define RESP_MAX_ELEMS 8

/* One element of a reply: a bulk/simple string, or an integer. */
struct resp_elem {
	char type; /* '$', '+', '-', ':' */
	const char *p;
	size_t len;
	long long num;
};

/*
 * resp_parse() - parse one reply at buf (n bytes): an array of up to
 * RESP_MAX_ELEMS scalars, or one scalar (then *count is 1).  Returns the
 * bytes it spans, 0 if it is not all there yet, -1 if it is not RESP we
 * understand.  Elements point into buf.
 */
long resp_parse(const char *buf, size_t n, struct resp_elem *el, int *count);

#endif
