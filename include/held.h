/* held.h: the embargoed items waiting for release, by topic and id. */
#ifndef TICKERD_HELD_H
#define TICKERD_HELD_H

#include <stddef.h>
#include <stdint.h>

struct held;

/* held_new() - an empty set; NULL on ENOMEM. */
struct held *held_new(void);

/* held_put() - id in topic is held until ms (since the epoch); a second
 * put replaces the time.  0, or -1 on ENOMEM. */
int held_put(struct held *h, const char *topic, const char *id, uint64_t ms);

/* held_until() - when id in topic is released, or 0 if it is not held. */
uint64_t held_until(const struct held *h, const char *topic, const char *id);

/* held_remove() - it is released or killed; 1 if it was held. */
int held_remove(struct held *h, const char *topic, const char *id);

/* held_clear() / held_free() - forget them all / and h. */
void held_clear(struct held *h);
void held_free(struct held *h);

/* held_count() - how many are held. */
size_t held_count(const struct held *h);

#endif
