/* seqcap.h: capturing the first "seq":"..." of a message, streamed. */
#ifndef BENCH_SEQCAP_H
#define BENCH_SEQCAP_H

#include <stddef.h>
#include <stdint.h>

#define SEQCAP_MAX 47

/*
 * tickerd's item and snapshot messages carry their position as "seq":"…"
 * (the item's own, or the snapshot's); the generator resumes from the last
 * one a client saw.  done is set once a whole value was read.
 */
struct seqcap {
	uint8_t matched; /* bytes of the key matched, then of the value */
	uint8_t in_value;
	uint8_t done;
	uint8_t len;
	char value[SEQCAP_MAX + 1];
};

/* seqcap_reset() - start on a new message. */
void seqcap_reset(struct seqcap *s);

/* seqcap_feed() - scan n more bytes of the message. */
void seqcap_feed(struct seqcap *s, const uint8_t *p, size_t n);

#endif
