/* screen_judge.c: a named screen's lag in time, and whether it is stale. */
#include "screen_judge.h"

#include <stddef.h>

uint64_t
screen_lag_s(const struct screen_lag *lag, uint64_t now_ms)
{
	if (!lag->messages || !lag->oldest_ms || lag->oldest_ms >= now_ms)
		return 0;
	return (now_ms - lag->oldest_ms) / 1000;
}

enum screen_staleness
screen_judge(uint64_t heard_ms, const struct screen_lag *lag, uint64_t now_ms,
             uint64_t stale_ms)
{
	if (now_ms > heard_ms && now_ms - heard_ms > stale_ms)
		return SCREEN_SILENT;
	if (lag->messages && lag->oldest_ms && now_ms > lag->oldest_ms &&
	    now_ms - lag->oldest_ms > stale_ms)
		return SCREEN_LAGGING;
	return SCREEN_FRESH;
}

const char *
screen_staleness_name(enum screen_staleness s)
{
	return s == SCREEN_SILENT    ? "silent"
	       : s == SCREEN_LAGGING ? "lagging"
	                             : NULL;
}
