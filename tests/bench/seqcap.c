/* seqcap.c: the streaming "seq" reader. */
#include "seqcap.h"

#include <string.h>

#define KEY "\"seq\":\""

void
seqcap_reset(struct seqcap *s)
{
	memset(s, 0, sizeof(*s));
}

void
seqcap_feed(struct seqcap *s, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !s->done; i++) {
		uint8_t c = p[i];

		if (s->in_value) {
			if (c == '"' || s->len == SEQCAP_MAX) {
				s->value[s->len] = '\0';
				s->done = 1;
			} else {
				s->value[s->len++] = (char)c;
			}
		} else if (c == (uint8_t)KEY[s->matched]) {
			if (!KEY[++s->matched])
				s->in_value = 1;
		} else {
			s->matched = c == (uint8_t)KEY[0];
		}
	}
}
