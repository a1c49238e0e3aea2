/* outputs.c: the current items over plain HTTP (/items.json, /feed.atom),
 * written from the history alone, with validators so that a reader that
 * polls gets a 304 until the items of its topics change. */
#include "outputs.h"

#include "app.h"
#include "atom.h"
#include "files.h"
#include "history.h"
#include "http.h"
#include "isotime.h"
#include "log.h"
#include "message.h"
#include "request.h"
#include "seq.h"
#include "since.h"
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Caches and readers may keep a copy but must ask again before each use
 * (a 304 while nothing changed): a max-age would keep showing a killed or
 * corrected item for that long, and an answer is cheap to revalidate.
 */
#define OUTPUTS_CACHE "no-cache"

/* The items an output shows, oldest first, and when they last changed. */
struct shown {
	struct msg **items; /* from history_collect(): free() it */
	const struct atom_entry **entries; /* items[i]'s: free() it */
	size_t n;
	time_t changed; /* the last change to them, in seconds */
	time_t until;   /* the first expiry among them; 0: none */
};

/*
 * One answer, made for a kind of output and a choice of topics, and what
 * it was made from: kept in the cache while those are unchanged (the
 * history's generation, the last change to those topics, and no item it
 * shows expired), so that readers polling the same feed cost a lookup,
 * not a rendering and a hash of the whole body each.
 */
struct answer {
	int atom; /* /feed.atom, else /items.json */
	struct topic_filter f;
	struct since since; /* since=: only items logged after; never kept */
	int has_since;
	uint64_t generation;
	struct seq last; /* history_changed() when made; {0,0}: none */
	time_t until;    /* valid before this time; 0: until a change */
	time_t changed;  /* the last change, for Last-Modified */
	char *body;      /* NULL: a free slot */
	size_t len;
	char etag[FILES_ETAG_LEN];
};

/* The answers kept: a few feeds are polled by many readers. */
#define CACHE_SLOTS     16
#define CACHE_BYTES_MAX (8u << 20) /* their bodies, in all */

static struct answer cache[CACHE_SLOTS];
static unsigned cache_next; /* the slot to reuse next, in turn */
static size_t cache_bytes;

/* The kept answer for this output, topics and state of the history, or NULL. */
static const struct answer *
cache_find(int atom, const struct topic_filter *f, uint64_t generation,
           struct seq last, time_t now)
{
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		const struct answer *a = &cache[i];

		if (a->body && a->atom == atom && a->generation == generation &&
		    !seq_cmp(a->last, last) && (!a->until || now < a->until) &&
		    topic_filter_equal(&a->f, f))
			return a;
	}
	return NULL;
}

static void
cache_drop(struct answer *a)
{
	cache_bytes -= a->body ? a->len : 0;
	free(a->body);
	a->body = NULL;
}

/*
 * Keep a (its body is handed over) in place of the oldest answers, for as
 * long as they fit; returns the kept one, or NULL when a is too large to
 * keep (the caller still owns its body).
 */
static const struct answer *
cache_keep(const struct answer *a)
{
	struct answer *slot;

	if (a->len > CACHE_BYTES_MAX / 2)
		return NULL;
	/* The same output and topics: the old answer is stale. */
	for (unsigned i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].body && cache[i].atom == a->atom &&
		    topic_filter_equal(&cache[i].f, &a->f))
			cache_drop(&cache[i]);
	do {
		slot = &cache[cache_next++ % CACHE_SLOTS];
		cache_drop(slot);
	} while (cache_bytes + a->len > CACHE_BYTES_MAX);
	*slot = *a;
	cache_bytes += a->len;
	return slot;
}

/*
 * Whether a kept item may be shown now: not once its expires has passed.
 * The history drops an expired item when the log's retraction is read
 * (ingest.c), a few ms after; this covers the moments between.  Embargoed
 * items never enter the history before their release.
 */
static int
item_shown(const struct atom_entry *e, time_t now)
{
	return !e->expires || now < e->expires;
}

/* Whether m (an item's current version) was logged after a's since=. */
static int
after_since(const struct answer *a, const struct msg *m)
{
	if (!a->has_since)
		return 1;
	if (a->since.kind == SINCE_SEQ)
		return seq_cmp(m->seq, a->since.seq) > 0;
	return m->seq.ms > a->since.ms;
}

/*
 * The items of the topics a selects (and, with since=, logged after it)
 * that are shown at now, into s, and
 * when they last changed: the last log entry that changed those topics'
 * items, or the last expiry that took one away; and when the first of them
 * expires.  0, or -1 on ENOMEM (nothing to free).
 */
static int
collect(struct history *h, const struct answer *a, time_t now, struct shown *s)
{
	const struct topic_filter *f = &a->f;
	long n = history_collect(h, f, &s->items), i = 0;
	struct seq last;

	s->n = 0;
	s->changed = s->until = 0;
	if (n < 0)
		return -1;
	s->entries = malloc((n ? (size_t)n : 1) * sizeof(*s->entries));
	for (; s->entries && i < n; i++) {
		const struct atom_entry *e = atom_entry_of(s->items[i]);

		if (!e)
			break;
		if (item_shown(e, now) && after_since(a, s->items[i])) {
			s->items[s->n] = s->items[i];
			s->entries[s->n++] = e;
			if (e->expires && (!s->until || e->expires < s->until))
				s->until = e->expires;
		} else if (e->expires > s->changed) {
			s->changed = e->expires;
		}
	}
	if (!s->entries || i < n) {
		free(s->items);
		free(s->entries);
		return -1;
	}
	if (history_changed(h, f, &last) &&
	    (time_t)(last.ms / 1000) > s->changed)
		s->changed = (time_t)(last.ms / 1000);
	return 0;
}

/*
 * Answer r with a's body (of type) and its validators: a strong ETag of the
 * bytes (the same in every tickerd that holds the same items, so a
 * balancer may send a reader to any of them) and Last-Modified, the second
 * of the last change; 304 when the client's copy is current.
 */
static enum door_next
respond(struct door_conn *c, const struct request *r, const char *type,
        const struct answer *a)
{
	char date[FILES_DATE_LEN], extra[160];
	time_t now = time(NULL);

	/*
	 * Another change may still come within the second of the last one:
	 * a copy made in that second is dated a second earlier, so that
	 * If-Modified-Since never keeps it (RFC 9110 8.8.2.2).
	 */
	files_http_date(a->changed < now ? a->changed : now - 1, date);
	snprintf(extra, sizeof(extra),
	         "ETag: %s\r\n"
	         "Last-Modified: %s\r\n"
	         "Access-Control-Allow-Origin: *\r\n",
	         a->etag, date);
	if (http_not_modified(r, a->etag, a->changed))
		return door_respond_cached(c, r, 304, NULL, NULL, 0,
		                           OUTPUTS_CACHE, extra);
	return door_respond_cached(c, r, 200, type, a->body, a->len,
	                           OUTPUTS_CACHE, extra);
}

/*
 * [item,…]: each item's bytes as the history keeps them (the ones a
 * snapshot splices), in the snapshot's order.  A new string (*len bytes),
 * or NULL on ENOMEM.
 */
static char *
items_json(const struct shown *s, size_t *len)
{
	size_t need = 3 + s->n;
	char *body, *p;

	for (size_t i = 0; i < s->n; i++)
		need += s->items[i]->item_len;
	if (!(p = body = malloc(need + 1)))
		return NULL;
	*p++ = '[';
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, msg_payload(s->items[i]) + s->items[i]->item_off,
		       s->items[i]->item_len);
		p += s->items[i]->item_len;
	}
	memcpy(p, "]\n", 3);
	*len = (size_t)(p + 2 - body);
	return body;
}

/* The feed: the entries newest first.  As atom_feed(). */
static char *
feed_atom(const struct topic_filter *f, const struct shown *s, size_t *len)
{
	const struct atom_entry **newest_first =
	    malloc((s->n ? s->n : 1) * sizeof(*newest_first));
	char *body;

	if (!newest_first)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		newest_first[i] = s->entries[s->n - 1 - i];
	body = atom_feed(f, newest_first, s->n, s->changed, len);
	free(newest_first);
	return body;
}

/*
 * Make the answer for a->atom, a->f and the history as it is at now into a
 * (its body new: the caller owns it).  0, or -1 on ENOMEM.
 */
static int
render(struct history *h, time_t now, struct answer *a)
{
	struct shown s;

	if (collect(h, a, now, &s))
		return -1;
	a->body =
	    a->atom ? feed_atom(&a->f, &s, &a->len) : items_json(&s, &a->len);
	a->until = s.until;
	a->changed = s.changed;
	free(s.items);
	free(s.entries);
	if (!a->body)
		return -1;
	files_etag(a->body, a->len, "", a->etag);
	return 0;
}

/* since=, if given, into a; 0, or -1 when it is not readable. */
static int
read_since(const struct request *r, struct answer *a)
{
	char text[SEQ_STR_LEN + 8];
	long n = request_arg(r, "since", text, sizeof(text));

	if (n == -1)
		return 0;
	if (n < 0)
		return -1;
	since_parse(text, isotime_now_ms(), &a->since);
	a->has_since = 1;
	return a->since.kind == SINCE_BAD ? -1 : 0;
}

/* One output: topics=, since=, the answer kept or made anew, answered. */
static enum door_next
serve(struct door_conn *c, const struct request *r, int atom)
{
	struct history *h = door_app(c)->history;
	const char *type =
	    atom ? "application/atom+xml; charset=utf-8" : "application/json";
	struct answer a = {.atom = atom};
	const struct answer *kept;
	enum door_next next;
	time_t now = time(NULL);

	if (http_topics(c, r, &a.f))
		return DOOR_CLOSE;
	if (read_since(r, &a))
		return door_refuse(c, r, 400,
		                   "since= must be a seq, a span back from now "
		                   "(30m, 2h) or an ISO 8601 time",
		                   NULL);
	a.generation = history_generation(h);
	if (!history_changed(h, &a.f, &a.last))
		a.last = (struct seq){0, 0};
	if (!a.has_since &&
	    (kept = cache_find(atom, &a.f, a.generation, a.last, now)))
		return respond(c, r, type, kept);
	if (render(h, now, &a)) {
		log_err("out of memory for %s",
		        atom ? "/feed.atom" : "/items.json");
		return door_refuse(c, r, 500, "out of memory", NULL);
	}
	if (!a.has_since && (kept = cache_keep(&a)))
		return respond(c, r, type, kept);
	next = respond(c, r, type, &a);
	free(a.body);
	return next;
}

enum door_next
outputs_items_json(struct door_conn *c, const struct request *r)
{
	return serve(c, r, 0);
}

enum door_next
outputs_feed_atom(struct door_conn *c, const struct request *r)
{
	return serve(c, r, 1);
}
