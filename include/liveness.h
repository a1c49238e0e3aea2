/* liveness.h: how tickerd judges that a Redis connection went silent. */
#ifndef TICKERD_LIVENESS_H
#define TICKERD_LIVENESS_H

#include <stdint.h>

/* Each connection is looked at this often, and dropped when a command
 * (or the probe its subscriber must hear) waits longer than the limit. */
#define LIVENESS_TICK_MS    1000
#define LIVENESS_SILENCE_MS 3000

/* When a periodic check last ran (loop ms). */
struct liveness_tick {
	uint64_t last;
};

/*
 * liveness_stalled() - the check runs now, every period ms: 1 if the loop
 * stalled since its last run (more than two periods: a turn busy for
 * seconds, when answers may be waiting unread), in which case no silence
 * is to be judged this time.
 */
static inline int
liveness_stalled(struct liveness_tick *t, uint64_t now, uint64_t period)
{
	uint64_t since = now - t->last;

	t->last = now;
	return since > 2 * period;
}

#endif
