/* marker.c: the streaming scanner for the benchmark's headline marker. */
#include "marker.h"

#include <string.h>

void
marker_reset(struct marker *m)
{
	memset(m, 0, sizeof(*m));
}

/* One byte while matching the tag or reading the numbers. */
static void
step(struct marker *m, uint8_t c)
{
	static const char tag[] = MARKER_TAG;

	switch (m->phase) {
	case 0:
		if (c == (uint8_t)tag[m->matched]) {
			if (!tag[++m->matched])
				m->phase = 1;
		} else {
			m->matched = c == (uint8_t)tag[0];
		}
		return;
	case 1:
		if (c >= '0' && c <= '9')
			m->seq = m->seq * 10 + (uint32_t)(c - '0');
		else if (c == ':')
			m->phase = 2;
		else
			marker_reset(m);
		return;
	case 2:
		if (c >= '0' && c <= '9')
			m->ns = m->ns * 10 + (uint64_t)(c - '0');
		else if (c == ';')
			m->phase = 3;
		else
			marker_reset(m);
		return;
	default:
		return;
	}
}

void
marker_feed(struct marker *m, const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;

	while (p < end && m->phase != 3) {
		if (m->phase == 0 && !m->matched) {
			/* Jump to the next possible start of the tag. */
			p = memchr(p, MARKER_TAG[0], (size_t)(end - p));
			if (!p)
				return;
		}
		step(m, *p++);
	}
}
