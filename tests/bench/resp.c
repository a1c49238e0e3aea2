/* resp.c: a small RESP2 reader for pub/sub messages. */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

/* A "<type><digits>\r\n" line at p: its number, and where it ends. */
static long
read_line(const char *p, const char *end, long long *num, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return 0;
	if (nl == p || nl[-1] != '\r')
		return -1;
	*num = strtoll(p + 1, NULL, 10);
	*next = nl + 1;
	return 1;
}

/* One scalar at *pp; advances *pp.  1 done, 0 incomplete, -1 bad. */
static int
read_scalar(const char **pp, const char *end, struct resp_elem *e)
{
	const char *p = *pp, *next;
	long long num;
	long r;

	if (p >= end)
		return 0;
	e->type = *p;
	r = read_line(p, end, &num, &next);
	if (r <= 0)
		return (int)r;
	switch (*p) {
	case '$':
		if (num < 0) { /* null bulk */
			e->p = NULL;
			e->len = 0;
			break;
		}
		if ((size_t)(end - next) < (size_t)num + 2)
			return 0;
		e->p = next;
		e->len = (size_t)num;
		next += num + 2;
		break;
	case '+':
	case '-':
		e->p = p + 1;
		e->len = (size_t)(next - p - 3);
		break;
	case ':':
		e->num = num;
		break;
	default:
		return -1;
	}
	*pp = next;
	return 1;
}

long
resp_parse(const char *buf, size_t n, struct resp_elem *el, int *count)
{
	const char *p = buf, *end = buf + n, *next;
	long long num;
	long r;

	if (!n)
		return 0;
	if (*p != '*') {
		r = read_scalar(&p, end, el);
		*count = 1;
		return r <= 0 ? r : (long)(p - buf);
	}
	r = read_line(p, end, &num, &next);
	if (r <= 0)
		return r;
	if (num < 0 || num > RESP_MAX_ELEMS)
		return -1;
	p = next;
	for (long long i = 0; i < num; i++) {
		r = read_scalar(&p, end, &el[i]);
		if (r <= 0)
			return r;
	}
	*count = (int)num;
	return (long)(p - buf);
}
