/* item_fields.h: an item's fields, one table row each (for item.c only). */
#ifndef TICKERD_ITEM_FIELDS_H
#define TICKERD_ITEM_FIELDS_H

#include "item.h"

/*
 * One payload being read into an item: what item.c hands the field table
 * and what the rows leave for one another (the id row says whether the id
 * was derived, the status row whether the item is a retraction).  Lives on
 * item_parse()'s stack for one call.
 */
struct item_build {
	json_t *in;         /* the payload as an object (borrowed) */
	const char *topic;  /* a valid topic, copied into the item */
	const char *hashed; /* bytes a missing id is derived from */
	size_t hashed_len;
	time_t now;      /* receive time: a missing time, the embargo */
	struct item *it; /* filled in; it->json is made here */
	struct item_error *err;
};

/*
 * item_fields_read() - make b->it->json from b->in, one table row after
 * another: the keys go out in the table's order.  Returns 0, or -1 with
 * b->err filled (first error wins); either way b->it->json, when not NULL,
 * is the caller's to release (item_free()).
 */
int item_fields_read(struct item_build *b);

/*
 * item_fail() - record reason and the formatted text in err unless an
 * error is recorded already (first error wins; control characters become
 * '?', the text may quote the payload).  Always returns -1.
 */
int item_fail(struct item_error *err, enum item_reason reason, const char *fmt,
              ...) __attribute__((format(printf, 3, 4)));

#endif
