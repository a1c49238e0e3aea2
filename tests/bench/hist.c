/* hist.c: log-linear bucketing and percentiles. */
#include "hist.h"

#include <string.h>

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* Bucket index of v: exact below HIST_SUB, then HIST_HALF per octave. */
static unsigned
bucket_of(uint64_t v)
{
	unsigned top, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	top = 63u - (unsigned)__builtin_clzll(v);
	if (top >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	shift = top - HIST_SUB_BITS + 1;
	return HIST_SUB + (shift - 1) * HIST_HALF +
	       (unsigned)((v >> shift) - HIST_HALF);
}

/* The largest value that falls into bucket i. */
static uint64_t
bucket_top(unsigned i)
{
	unsigned shift;
	uint64_t m;

	if (i < HIST_SUB)
		return i;
	shift = (i - HIST_SUB) / HIST_HALF + 1;
	m = HIST_HALF + (i - HIST_SUB) % HIST_HALF;
	return ((m + 1) << shift) - 1;
}

void
hist_record(struct hist *h, uint64_t v)
{
	h->bucket[bucket_of(v)]++;
	h->count++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

uint64_t
hist_percentile(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (!h->count)
		return 0;
	if (pct >= 100.0)
		return h->max;
	want = (uint64_t)(pct / 100.0 * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= want) {
			uint64_t top = bucket_top(i);

			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}
