/* feed.h: what readers are told of the feed: ok, or degraded while Redis
 * is away, judged from the Redis connections' states with a debounce. */
#ifndef TICKERD_FEED_H
#define TICKERD_FEED_H

#include "message.h"

#include <stdint.h>
#include <time.h>
#include <uv.h>

struct changelog;
struct fan;
struct subscriber;

/*
 * Trouble must last FEED_DEGRADE_AFTER_MS before screens are told the feed
 * is degraded: a Redis restart or a dropped connection is back within
 * about 1.5 s (the reconnect backoff's first steps: 100, 200, 400, 800
 * ms), and such a blip should not make every screen blink.  Health must
 * last FEED_RECOVER_AFTER_MS before they are told it is ok again, so that
 * a Redis going up and down is one degraded stretch, not a flicker.
 * Checked every FEED_CHECK_MS.
 */
#define FEED_DEGRADE_AFTER_MS 2000
#define FEED_RECOVER_AFTER_MS 1000
#define FEED_CHECK_MS         250

/*
 * The debounce, on its own (no loop, no Redis): fed the trouble seen at
 * each check, it says when the state readers are told changes.  Zeroed,
 * then feed_judge_init().
 */
struct feed_judge {
	struct msg_feed told; /* what readers were last told */
	int troubled;         /* trouble seen, not yet forgotten */
	uint64_t bad_since;   /* loop ms it began (troubled) */
	time_t bad_wall;      /* ... on the wall clock */
	int healthy;          /* no trouble at the last check */
	uint64_t good_since;  /* loop ms health came back (healthy) */
	time_t good_wall;     /* ... on the wall clock */
};

/* feed_judge_init() - ok since wall (tickerd's start). */
void feed_judge_init(struct feed_judge *j, time_t wall);

/*
 * feed_judge() - one check at loop time now (ms) and wall clock wall:
 * trouble is NULL when Redis is all there, else why not (a static string:
 * feed_trouble()).  Ok becomes degraded once trouble has lasted
 * FEED_DEGRADE_AFTER_MS, counting from its first sign (health that comes
 * back for less than FEED_RECOVER_AFTER_MS does not start the count again);
 * degraded becomes ok once health has lasted FEED_RECOVER_AFTER_MS.  The
 * state's since is when that began (the trouble, or the health), not when
 * it was told.  1 when j->told changed, else 0.
 */
int feed_judge(struct feed_judge *j, const char *trouble, uint64_t now,
               time_t wall);

/*
 * feed_trouble() - why Redis is not all there now, as feed_judge() and
 * /readyz see it: "redis" (the subscriber, or a change-log connection, is
 * down or silent), "library" (the function library is missing: payloads
 * wait), "log" (the reader has not read its place in the log yet); NULL
 * when all is well.
 */
const char *feed_trouble(const struct subscriber *sub,
                         const struct changelog *log);

struct feed;

/*
 * feed_new() - the feed's state for the process: every FEED_CHECK_MS from
 * feed_start() it judges feed_trouble(sub, log) and, when what readers are
 * told changes, sends every client of fan the feed message (encoded once,
 * fan_broadcast()), logs it and counts it.  NULL on ENOMEM.
 */
struct feed *feed_new(uv_loop_t *loop, const struct subscriber *sub,
                      const struct changelog *log, struct fan *fan);

void feed_start(struct feed *fd);

/* feed_told() - what readers are told now (for the hello, /healthz). */
const struct msg_feed *feed_told(const struct feed *fd);

/* feed_stop() / feed_free() - stop checking (its timer closes on a later
 * loop turn); release it once the loop has closed its handles. */
void feed_stop(struct feed *fd);
void feed_free(struct feed *fd);

#endif
