/* dead_air.h: topics that have said nothing for too long (--dead-air). */
#ifndef TICKERD_DEAD_AIR_H
#define TICKERD_DEAD_AIR_H

#include "config.h"

#include <stdint.h>

struct dead_air;

/*
 * dead_air_new() - watch the topics of spans (kept by the caller), each
 * silent since now_ms (ms since the epoch) until it has an item.  Its
 * families go to /metrics: tickerd_dead_air{topic} (1 while silent past
 * its span) and tickerd_dead_air_seconds{topic}.  NULL on ENOMEM.
 */
struct dead_air *dead_air_new(const struct cfg_topic_spans *spans,
                              uint64_t now_ms);

/* dead_air_heard() - topic had an item (new or updated) logged at ms. */
void dead_air_heard(struct dead_air *d, const char *topic, uint64_t ms);

/*
 * dead_air_check() - from the once-a-second sweep: a topic silent past its
 * span is logged once and counted (metrics.dead_airs) until it speaks
 * again (logged too).
 */
void dead_air_check(struct dead_air *d, uint64_t now_ms);

void dead_air_free(struct dead_air *d);

#endif
