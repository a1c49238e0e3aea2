/* history.h: the recent items of each topic, as clients see them. */
#ifndef TICKERD_HISTORY_H
#define TICKERD_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct msg;
struct topic_filter;

/*
 * What history_offer() decided about an item.  HIST_NEW and HIST_UPDATED
 * mean it must go to the screens; the others mean it must not.
 */
enum hist_result {
	HIST_NEW,
	HIST_UPDATED,
	HIST_DUPLICATE, /* same derived id: the same payload published again */
	HIST_STALE,     /* a version no newer than the one kept */
};

struct history;

/* history_new() - keep up to per_topic items per topic; NULL on ENOMEM. */
struct history *history_new(unsigned per_topic);

/* history_clear() - drop every item and topic; h stays usable. */
void history_clear(struct history *h);

/* history_free() - drop every item and topic, and h. */
void history_free(struct history *h);

/*
 * history_check() - decide, before anything is encoded, what an item with
 * this topic, id and version would be.  When the publisher gave no version
 * (version_given 0) an update gets the kept version + 1 in *version_out.
 */
enum hist_result history_check(struct history *h, const char *topic,
                               const char *id, int id_derived, long version,
                               int version_given, long *version_out);

/*
 * history_put() - keep m (an "item" message; a reference is taken) as the
 * current version of id in topic: an update stays where the first version
 * stood, a new item goes last and may push the oldest out.  0 or -1.
 */
int history_put(struct history *h, const char *topic, const char *id,
                long version, struct msg *m);

/*
 * history_remove() - forget id in topic; 1 if it was kept, else 0.  An item
 * is its topic and id: the same id in another topic is another item and
 * stays.
 */
int history_remove(struct history *h, const char *topic, const char *id);

/*
 * history_collect() - the kept item messages of the topics f selects,
 * oldest first, into a new array (*out, free() it; the messages are
 * borrowed).  Returns the count, or -1 on ENOMEM.
 */
long history_collect(struct history *h, const struct topic_filter *f,
                     struct msg ***out);

/* history_count() - how many items are kept across all topics. */
size_t history_count(const struct history *h);

#endif
