/* metrics.c: storage for the process's counters. */
#include "metrics.h"

struct metrics metrics;

void
metrics_reject(enum item_reason reason)
{
	metrics.rejected++;
	if (reason > ITEM_OK && reason < ITEM_REASON_COUNT)
		metrics.rejected_by[reason]++;
}
