/* since.h: where a client resumes from: a seq, or a time (since=30m,
 * since=2h, since=2025-06-24T09:30:00Z). */
#ifndef TICKERD_SINCE_H
#define TICKERD_SINCE_H

#include "seq.h"

#include <stdint.h>

enum since_kind {
	SINCE_SEQ,  /* after the message with this seq */
	SINCE_TIME, /* after this time: messages logged later */
	SINCE_BAD,  /* unreadable: the client gets a resync */
};

struct since {
	enum since_kind kind;
	struct seq seq;
	uint64_t ms; /* SINCE_TIME: ms since the epoch */
};

/*
 * since_parse() - read s: a seq ("1732412345678-0"), a duration before
 * now_ms (a whole number then s, m, h or d: "90s", "30m", "2h", "1d"; at
 * most 1000 days), or an ISO 8601 date-time (isotime_parse(): whole
 * seconds).  Anything else is SINCE_BAD.
 */
void since_parse(const char *s, uint64_t now_ms, struct since *out);

#endif
