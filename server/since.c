/* since.c: a resume point given as a seq, a duration or a time. */
#include "since.h"

#include "duration.h"
#include "isotime.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DAYS 1000

void
since_parse(const char *s, uint64_t now_ms, struct since *out)
{
	uint64_t back;
	time_t t;

	memset(out, 0, sizeof(*out));
	if (!seq_parse(s, strlen(s), &out->seq)) {
		out->kind = SINCE_SEQ;
		return;
	}
	if (!duration_parse(s, strlen(s), (uint64_t)MAX_DAYS * 86400000,
	                    &back)) {
		out->kind = SINCE_TIME;
		out->ms = back < now_ms ? now_ms - back : 0;
		return;
	}
	if (!isotime_parse(s, &t)) {
		out->kind = SINCE_TIME;
		out->ms = (uint64_t)t * 1000;
		return;
	}
	out->kind = SINCE_BAD;
}
