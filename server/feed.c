/* feed.c: the feed's state as readers are told it (ok, or degraded while
 * Redis is away), debounced, and the feed message every client gets when
 * it changes. */
#include "feed.h"

#include "changelog.h"
#include "fanout.h"
#include "isotime.h"
#include "log.h"
#include "metrics.h"
#include "subscriber.h"

#include <stdlib.h>
#include <string.h>

void
feed_judge_init(struct feed_judge *j, time_t wall)
{
	memset(j, 0, sizeof(*j));
	j->told.since = wall;
}

int
feed_judge(struct feed_judge *j, const char *trouble, uint64_t now, time_t wall)
{
	if (trouble) {
		j->healthy = 0;
		if (!j->troubled) {
			j->troubled = 1;
			j->bad_since = now;
			j->bad_wall = wall;
		}
		if (j->told.degraded ||
		    now - j->bad_since < FEED_DEGRADE_AFTER_MS)
			return 0;
		j->told = (struct msg_feed){
		    .degraded = 1, .since = j->bad_wall, .reason = trouble};
		return 1;
	}
	if (!j->healthy) {
		j->healthy = 1;
		j->good_since = now;
		j->good_wall = wall;
	}
	if (now - j->good_since < FEED_RECOVER_AFTER_MS)
		return 0;
	j->troubled = 0; /* a blip, forgotten */
	if (!j->told.degraded)
		return 0;
	j->told = (struct msg_feed){.degraded = 0, .since = j->good_wall};
	return 1;
}

const char *
feed_trouble(const struct subscriber *sub, const struct changelog *log)
{
	const char *why = changelog_trouble(log);

	return sub_subscribed(sub) ? why : "redis";
}

/* One per process; its timer judges the trouble every FEED_CHECK_MS. */
struct feed {
	const struct subscriber *sub;
	const struct changelog *log;
	struct fan *fan;
	struct feed_judge judge;
	int untold;    /* the change is not sent yet (ENOMEM): next check */
	uint64_t last; /* loop ms of the last check */
	uint64_t ms;   /* degraded, less than a whole second not yet counted */
	uv_timer_t timer;
};

/* Send every client the feed message; 0, or -1 on ENOMEM. */
static int
tell(struct feed *fd)
{
	struct msg *m = msg_new_feed(&fd->judge.told);

	if (!m) {
		log_err("out of memory: the feed's state not sent; trying "
		        "again");
		return -1;
	}
	fan_broadcast(fd->fan, m);
	msg_unref(m);
	return 0;
}

/* Log and count a change of what readers are told. */
static void
changed(struct feed *fd)
{
	const struct msg_feed *t = &fd->judge.told;
	char since[ISOTIME_LEN];

	isotime_format(t->since, since);
	metrics.feed_degraded = (uint64_t)t->degraded;
	if (t->degraded) {
		metrics.feed_degradations++;
		log_warn("feed degraded (%s) since %s: telling %llu clients "
		         "headlines may be out of date",
		         t->reason, since, (unsigned long long)metrics.clients);
	} else {
		log_notice("feed ok again since %s: telling %llu clients",
		           since, (unsigned long long)metrics.clients);
	}
}

static void
on_check(uv_timer_t *t)
{
	struct feed *fd = t->data;
	uint64_t now = uv_now(t->loop);

	if (fd->judge.told.degraded) {
		fd->ms += now - fd->last;
		metrics.feed_degraded_s += fd->ms / 1000;
		fd->ms %= 1000;
	}
	fd->last = now;
	if (feed_judge(&fd->judge, feed_trouble(fd->sub, fd->log), now,
	               time(NULL))) {
		changed(fd);
		fd->untold = 1;
	}
	if (fd->untold)
		fd->untold = tell(fd) < 0;
}

struct feed *
feed_new(uv_loop_t *loop, const struct subscriber *sub,
         const struct changelog *log, struct fan *fan)
{
	struct feed *fd = calloc(1, sizeof(*fd));

	if (!fd)
		return NULL;
	fd->sub = sub;
	fd->log = log;
	fd->fan = fan;
	feed_judge_init(&fd->judge, time(NULL));
	uv_timer_init(loop, &fd->timer);
	fd->timer.data = fd;
	return fd;
}

void
feed_start(struct feed *fd)
{
	fd->last = uv_now(fd->timer.loop);
	uv_timer_start(&fd->timer, on_check, FEED_CHECK_MS, FEED_CHECK_MS);
}

const struct msg_feed *
feed_told(const struct feed *fd)
{
	return &fd->judge.told;
}

void
feed_stop(struct feed *fd)
{
	uv_timer_stop(&fd->timer);
	uv_close((uv_handle_t *)&fd->timer, NULL);
}

void
feed_free(struct feed *fd)
{
	free(fd);
}
