/* history.c: recent items per topic, updated by version, retracted by id. */
#include "history.h"

#include "message.h"
#include "topics.h"

#include <stdlib.h>
#include <string.h>

/* One kept item; lives until retracted or pushed out of its topic. */
struct hist_entry {
	struct hist_entry *prev, *next; /* topic's list, oldest first */
	char *id;
	long version;
	uint64_t order; /* when the first version arrived: snapshot order */
	struct msg *msg;
};

/* One topic's items; topics live as long as the history. */
struct hist_topic {
	struct hist_topic *next;
	char *name;
	struct hist_entry *oldest, *newest;
	unsigned count;
};

struct history {
	struct hist_topic *topics;
	unsigned per_topic;
	uint64_t next_order;
	size_t count;
};

struct history *
history_new(unsigned per_topic)
{
	struct history *h = calloc(1, sizeof(*h));

	if (h)
		h->per_topic = per_topic ? per_topic : 1;
	return h;
}

static void
entry_free(struct hist_entry *e)
{
	msg_unref(e->msg);
	free(e->id);
	free(e);
}

void
history_clear(struct history *h)
{
	struct hist_topic *t, *tn;
	struct hist_entry *e, *en;

	for (t = h->topics; t; t = tn) {
		tn = t->next;
		for (e = t->oldest; e; e = en) {
			en = e->next;
			entry_free(e);
		}
		free(t->name);
		free(t);
	}
	h->topics = NULL;
	h->count = 0;
}

void
history_free(struct history *h)
{
	if (!h)
		return;
	history_clear(h);
	free(h);
}

static struct hist_topic *
find_topic(struct history *h, const char *name)
{
	for (struct hist_topic *t = h->topics; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

/* Linear in the topic's length, which --history bounds (50 by default). */
static struct hist_entry *
find_entry(struct hist_topic *t, const char *id)
{
	for (struct hist_entry *e = t ? t->oldest : NULL; e; e = e->next)
		if (!strcmp(e->id, id))
			return e;
	return NULL;
}

static void
unlink_entry(struct history *h, struct hist_topic *t, struct hist_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		t->oldest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->newest = e->prev;
	t->count--;
	h->count--;
	entry_free(e);
}

enum hist_result
history_check(struct history *h, const char *topic, const char *id,
              int id_derived, long version, int version_given,
              long *version_out)
{
	struct hist_entry *e = find_entry(find_topic(h, topic), id);

	*version_out = version;
	if (!e)
		return HIST_NEW;
	if (id_derived)
		return HIST_DUPLICATE;
	if (!version_given) {
		*version_out = e->version + 1;
		return HIST_UPDATED;
	}
	return version > e->version ? HIST_UPDATED : HIST_STALE;
}

int
history_put(struct history *h, const char *topic, const char *id, long version,
            struct msg *m)
{
	struct hist_topic *t = find_topic(h, topic);
	struct hist_entry *e = find_entry(t, id);

	if (e) {
		msg_unref(e->msg);
		e->msg = msg_ref(m);
		e->version = version;
		return 0;
	}
	if (!t) {
		t = calloc(1, sizeof(*t));
		if (!t || !(t->name = strdup(topic))) {
			free(t);
			return -1;
		}
		t->next = h->topics;
		h->topics = t;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->id = strdup(id))) {
		free(e);
		return -1;
	}
	e->version = version;
	e->order = h->next_order++;
	e->msg = msg_ref(m);
	e->prev = t->newest;
	if (t->newest)
		t->newest->next = e;
	else
		t->oldest = e;
	t->newest = e;
	t->count++;
	h->count++;
	while (t->count > h->per_topic)
		unlink_entry(h, t, t->oldest);
	return 0;
}

int
history_remove(struct history *h, const char *topic, const char *id)
{
	struct hist_topic *t = find_topic(h, topic);
	struct hist_entry *e = find_entry(t, id);

	if (!e)
		return 0;
	unlink_entry(h, t, e);
	return 1;
}

static int
by_order(const void *a, const void *b)
{
	const struct hist_entry *x = *(struct hist_entry *const *)a;
	const struct hist_entry *y = *(struct hist_entry *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

long
history_collect(struct history *h, const struct topic_filter *f,
                struct msg ***out)
{
	struct hist_entry **entries;
	struct msg **msgs;
	size_t n = 0;

	*out = NULL;
	entries = malloc((h->count ? h->count : 1) * sizeof(*entries));
	if (!entries)
		return -1;
	for (struct hist_topic *t = h->topics; t; t = t->next)
		if (topic_filter_match(f, t->name))
			for (struct hist_entry *e = t->oldest; e; e = e->next)
				entries[n++] = e;
	qsort(entries, n, sizeof(*entries), by_order);

	msgs = malloc((n ? n : 1) * sizeof(*msgs));
	if (!msgs) {
		free(entries);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		msgs[i] = entries[i]->msg;
	free(entries);
	*out = msgs;
	return (long)n;
}

size_t
history_count(const struct history *h)
{
	return h->count;
}
