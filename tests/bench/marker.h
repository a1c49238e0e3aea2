/* marker.h: finding "BENCH:<seq>:<send ns>;" in a message, streamed. */
#ifndef BENCH_MARKER_H
#define BENCH_MARKER_H

#include <stddef.h>
#include <stdint.h>

#define MARKER_TAG "BENCH:"

/*
 * The generator writes MARKER_TAG, the item's sequence number, ':', its
 * scheduled send time (CLOCK_MONOTONIC ns), and ';' into each headline.
 * The scanner is fed a message's payload piece by piece and keeps only
 * this state, whatever wraps the headline (tickerd's item JSON, the raw
 * payload from the floor or Nchan).
 */
struct marker {
	uint8_t phase; /* 0 tag, 1 seq digits, 2 ns digits, 3 found */
	uint8_t matched;
	uint32_t seq;
	uint64_t ns;
};

/* marker_reset() - start scanning a new message. */
void marker_reset(struct marker *m);

/* marker_feed() - scan n more bytes; m->phase == 3 once found. */
void marker_feed(struct marker *m, const uint8_t *p, size_t n);

#endif
