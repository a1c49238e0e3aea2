/* hist.h: a log-linear latency histogram (HdrHistogram-style buckets). */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

/*
 * Values below 2^HIST_SUB_BITS are exact; above, each power of two is split
 * into 2^(HIST_SUB_BITS - 1) equal buckets, so a reported value is within
 * 1/64 (1.6 %) of the true one.  Covers 0 .. 2^42 ns (about 73 minutes).
 */
#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_HALF     (HIST_SUB / 2)
#define HIST_MAX_BITS 42
#define HIST_BUCKETS  (HIST_SUB + (HIST_MAX_BITS - HIST_SUB_BITS) * HIST_HALF)

struct hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t bucket[HIST_BUCKETS];
};

/* hist_init() - empty the histogram. */
void hist_init(struct hist *h);

/* hist_record() - count one value (values past the range count as max). */
void hist_record(struct hist *h, uint64_t v);

/* hist_merge() - add every value counted in src to dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/*
 * hist_percentile() - the value at or below which pct percent of the
 * recorded values fall (the upper edge of its bucket, never above the true
 * maximum); pct 100 is the exact maximum.  0 when empty.
 */
uint64_t hist_percentile(const struct hist *h, double pct);

#endif
