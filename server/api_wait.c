/* api_wait.c: the publish API's requests waiting for their answer: sent to
 * Redis (FCALL), then recorded and waiting for the reader to read their
 * entry back (a list by seq, answered as the reader passes them), or ended
 * early (the client left, the bound).  api.c starts them. */
#include "api_private.h"

#include "changelog.h"
#include "item.h"
#include "log.h"
#include "seq.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/*
 * The publishes Redis has recorded whose entries the reader has not read
 * yet, by seq (oldest first: FCALL answers come in the order they were
 * sent, so each is appended, or put in its place from the end), and the
 * last entry read.
 */
static struct api_wait *unread, *unread_tail;
static struct seq last_read;

void
api_wait_free(struct api_wait *w)
{
	free(w->payload);
	free(w);
}

/*
 * The 201: the seq, the key's name and the item as it is read back from
 * the entry (its time, for plain text, the entry's), or the retraction.
 */
static json_t *
created(const struct api_wait *w, const char *id)
{
	struct seq seq = {0, 0};
	struct item_error err;
	struct item it;
	json_t *o;

	seq_parse(id, strlen(id), &seq);
	if (item_parse(w->topic, w->payload, w->len, (time_t)(seq.ms / 1000),
	               &it, &err))
		return json_pack("{ssss}", "seq", id, "by", w->by);
	if (it.status != ITEM_USABLE)
		o = json_pack("{sssss{ssss}}", "seq", id, "by", w->by,
		              "retract", "id", it.id, "topic", it.topic);
	else if (!item_set_seq(&it, id))
		o = json_pack("{sssssO}", "seq", id, "by", w->by, "item",
		              it.json);
	else
		o = NULL;
	item_free(&it);
	return o;
}

/* Answer w's publish: 201 (recorded as w->id), and let the connection go
 * on. */
static void
answer_created(struct api_wait *w)
{
	struct door_conn *c = w->c;
	enum door_next next =
	    api_answer(c, &w->r, 201, created(w, w->id), NULL, 1);

	api_wait_free(w);
	door_resume(c, next);
}

/* Take w out of the unread list (if it is in it). */
static void
unread_remove(struct api_wait *w)
{
	if (!w->id[0])
		return;
	if (w->prev)
		w->prev->next = w->next;
	else if (unread == w)
		unread = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else if (unread_tail == w)
		unread_tail = w->prev;
	w->next = w->prev = NULL;
}

/* Put w (recorded as w->seq) in its place in the unread list. */
static void
unread_add(struct api_wait *w)
{
	struct api_wait *after = unread_tail;

	while (after && seq_cmp(after->seq, w->seq) > 0)
		after = after->prev;
	w->prev = after;
	w->next = after ? after->next : unread;
	if (w->next)
		w->next->prev = w;
	else
		unread_tail = w;
	if (after)
		after->next = w;
	else
		unread = w;
}

/*
 * Answer w's publish 409: recorded as w->id, but the reader skipped it
 * (skipped: "stale" or "duplicate"), so no screen shows it.
 */
static void
answer_skipped(struct api_wait *w, const char *skipped)
{
	struct door_conn *c = w->c;
	enum door_next next = api_answer(
	    c, &w->r, 409,
	    json_pack(
	        "{ssssss}", "error", skipped, "seq", w->id, "message",
	        strcmp(skipped, "stale") == 0
	            ? "recorded, but not shown: the item already has this "
	              "version or a newer one (publish a higher version)"
	            : "recorded, but not shown: the same item was "
	              "published just before"),
	    NULL, 1);

	log_info("%s's publish on %s recorded as %s, skipped: %s", w->by,
	         w->topic, w->id, skipped);
	api_wait_free(w);
	door_resume(c, next);
}

/*
 * The entries read lately that the reader skipped: a publish whose entry is
 * read before Redis's answer to its FCALL arrives (the reader's XREAD can
 * be first) still learns it was skipped.  The last SKIPPED_KEPT of them.
 */
#define SKIPPED_KEPT 64
static struct {
	struct seq seq;
	const char *why; /* "stale" or "duplicate"; NULL: unused */
} skipped_kept[SKIPPED_KEPT];
static unsigned skipped_next;

/* Why the entry seq, read already, was skipped; NULL if it was not. */
static const char *
skipped_of(struct seq seq)
{
	for (unsigned i = 0; i < SKIPPED_KEPT; i++)
		if (skipped_kept[i].why && !seq_cmp(skipped_kept[i].seq, seq))
			return skipped_kept[i].why;
	return NULL;
}

void
api_entry_read(struct seq seq, const char *skipped)
{
	last_read = seq;
	if (skipped) {
		skipped_kept[skipped_next].seq = seq;
		skipped_kept[skipped_next].why = skipped;
		skipped_next = (skipped_next + 1) % SKIPPED_KEPT;
	}
	while (unread && seq_cmp(unread->seq, seq) <= 0) {
		struct api_wait *w = unread;

		unread_remove(w);
		if (skipped && seq_cmp(w->seq, seq) == 0)
			answer_skipped(w, skipped);
		else
			answer_created(w);
	}
}

/*
 * Redis answered the record (id), or it never will be (why).  Recorded,
 * it is answered once the reader has read it (at once for a retry whose
 * entry was read long ago).
 */
void
api_on_recorded(void *arg, const char *id, const char *why)
{
	struct api_wait *w = arg;
	struct door_conn *c = w->c;
	enum door_next next;

	w->rec = NULL;
	if (id && !seq_parse(id, strlen(id), &w->seq)) {
		log_info("%s recorded %zu bytes on %s as %s", w->by, w->len,
		         w->topic, id);
		seq_format(w->seq, w->id);
		if (seq_cmp(w->seq, last_read) <= 0 && skipped_of(w->seq))
			answer_skipped(w, skipped_of(w->seq));
		else if (seq_cmp(w->seq, last_read) <= 0)
			answer_created(w);
		else
			unread_add(w);
		return;
	}
	log_err("%s's %zu bytes on %s not recorded: %s", w->by, w->len,
	        w->topic, id ? "an answer that is no entry id" : why);
	next = api_answer(c, &w->r, 503,
	                  json_pack("{ssss}", "error", "redis", "message",
	                            "Redis did not record it"),
	                  NULL, 1);
	api_wait_free(w);
	door_resume(c, next);
}

/*
 * The client left (expired 0), or the answer took too long (1: answer
 * now): 201 if Redis has recorded it (its entry is not read back yet),
 * else 503.
 */
void
api_on_hold_end(void *arg, int expired)
{
	struct api_wait *w = arg;

	changelog_forget(w->rec);
	unread_remove(w);
	if (expired && w->id[0]) {
		log_warn("%s's entry %s on %s not read back in %d ms: "
		         "answered",
		         w->by, w->id, w->topic, API_WAIT_MS);
		api_answer(w->c, &w->r, 201, created(w, w->id), NULL, 0);
	} else if (expired) {
		log_warn("%s's %zu bytes on %s: no answer from Redis in %d ms",
		         w->by, w->len, w->topic, API_WAIT_MS);
		api_answer(w->c, &w->r, 503,
		           json_pack("{ssss}", "error", "redis", "message",
		                     "Redis has not answered yet: it may still "
		                     "record it; retry with the same "
		                     "Idempotency-Key"),
		           NULL, 0);
	}
	api_wait_free(w);
}
