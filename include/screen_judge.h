/* screen_judge.h: how far behind a named screen is, and whether it is stale. */
#ifndef TICKERD_SCREEN_JUDGE_H
#define TICKERD_SCREEN_JUDGE_H

#include <stdint.h>

/*
 * How far behind a screen is: messages of its topics logged after the
 * seq it drew, and the log time (ms) of the oldest of them (0: none).
 */
struct screen_lag {
	uint64_t messages;
	uint64_t oldest_ms;
};

/* Why a screen is stale, or not. */
enum screen_staleness { SCREEN_FRESH, SCREEN_SILENT, SCREEN_LAGGING };

/*
 * screen_lag_s() - the lag in seconds at now_ms: how long the oldest
 * message it has not drawn has been logged (whole seconds, 0 when it is
 * not behind or the clocks disagree).
 */
uint64_t screen_lag_s(const struct screen_lag *lag, uint64_t now_ms);

/*
 * screen_judge() - at now_ms, a screen last heard at heard_ms, this far
 * behind: SCREEN_SILENT once it has sent no report for more than
 * stale_ms, else SCREEN_LAGGING once its lag in time is more than
 * stale_ms, else SCREEN_FRESH.
 */
enum screen_staleness screen_judge(uint64_t heard_ms,
                                   const struct screen_lag *lag,
                                   uint64_t now_ms, uint64_t stale_ms);

/* screen_staleness_name() - "silent", "lagging", or NULL when fresh. */
const char *screen_staleness_name(enum screen_staleness s);

#endif
