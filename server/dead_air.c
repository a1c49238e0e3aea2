/* dead_air.c: topics that have said nothing for too long. */
#include "dead_air.h"

#include "log.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

struct dead_air {
	const struct cfg_topic_spans *spans;
	uint64_t last[CFG_MAX_TOPIC_SPANS]; /* ms of its last item */
	int silent[CFG_MAX_TOPIC_SPANS];    /* flagged as dead air */
	uint64_t now;                       /* of the last check */
};

/* tickerd_dead_air{topic}: 1 while flagged. */
static void
each_flag(const void *arg, metrics_emit_fn emit, void *ctx)
{
	const struct dead_air *d = arg;

	for (int i = 0; i < d->spans->n; i++)
		emit(ctx, d->spans->at[i].topic, (uint64_t)d->silent[i]);
}

/* tickerd_dead_air_seconds{topic}: since its last item, at the check. */
static void
each_seconds(const void *arg, metrics_emit_fn emit, void *ctx)
{
	const struct dead_air *d = arg;

	for (int i = 0; i < d->spans->n; i++)
		emit(ctx, d->spans->at[i].topic,
		     d->now > d->last[i] ? (d->now - d->last[i]) / 1000 : 0);
}

struct dead_air *
dead_air_new(const struct cfg_topic_spans *spans, uint64_t now_ms)
{
	struct dead_air *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->spans = spans;
	d->now = now_ms;
	for (int i = 0; i < spans->n; i++)
		d->last[i] = now_ms;
	if (spans->n &&
	    (metrics_topic_family("dead_air", "gauge",
	                          "1 while a --dead-air topic has had no item "
	                          "for longer than its span.",
	                          each_flag, d) ||
	     metrics_topic_family("dead_air_seconds", "gauge",
	                          "Seconds since a --dead-air topic's last "
	                          "item (or since tickerd started).",
	                          each_seconds, d)))
		log_warn("dead air: no room in /metrics for its families");
	return d;
}

void
dead_air_heard(struct dead_air *d, const char *topic, uint64_t ms)
{
	for (int i = 0; i < d->spans->n; i++) {
		if (strcmp(d->spans->at[i].topic, topic))
			continue;
		if (ms > d->last[i])
			d->last[i] = ms;
		if (d->silent[i]) {
			d->silent[i] = 0;
			metrics.dead_air--;
			log_notice("dead air over: %s has an item again",
			           topic);
		}
		return;
	}
}

void
dead_air_check(struct dead_air *d, uint64_t now_ms)
{
	d->now = now_ms;
	for (int i = 0; i < d->spans->n; i++) {
		uint64_t quiet = now_ms > d->last[i] ? now_ms - d->last[i] : 0;

		if (d->silent[i] || quiet < d->spans->at[i].ms)
			continue;
		d->silent[i] = 1;
		metrics.dead_air++;
		metrics.dead_airs++;
		log_warn("dead air: %s has had no item for %llu s (--dead-air "
		         "%llu s)",
		         d->spans->at[i].topic,
		         (unsigned long long)(quiet / 1000),
		         (unsigned long long)(d->spans->at[i].ms / 1000));
	}
}

void
dead_air_free(struct dead_air *d)
{
	free(d);
}
