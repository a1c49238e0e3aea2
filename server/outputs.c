/* outputs.c: the current items over plain HTTP (/items.json, /feed.atom),
 * written from the history alone, with validators so that a reader that
 * polls gets a 304 until the items of its topics change. */
#include "outputs.h"

#include "app.h"
#include "atom.h"
#include "files.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "message.h"
#include "request.h"
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
};

/*
 * HOOK for embargo and expiry: whether a kept item may be shown now; the
 * one place the outputs decide it.  Today: not once its expires has passed
 * (the history still holds it, and WebSocket snapshots still carry it,
 * until expiry is built into the history).  Embargoed items are refused at
 * ingest, so the history holds none.  When the history drops expired
 * items and holds embargoed ones itself, ask it here.
 */
static int
item_shown(const struct atom_entry *e, time_t now)
{
	return !e->expires || now < e->expires;
}

/*
 * The items of the topics f selects that are shown at now, into s, and
 * when they last changed: the last log entry that changed those topics'
 * items, or the last expiry that took one away.  0, or -1 on ENOMEM
 * (nothing to free).
 */
static int
collect(struct app *app, const struct topic_filter *f, time_t now,
        struct shown *s)
{
	long n = history_collect(app->history, f, &s->items), i = 0;
	struct seq last;

	s->n = 0;
	s->changed = 0;
	if (n < 0)
		return -1;
	s->entries = malloc((n ? (size_t)n : 1) * sizeof(*s->entries));
	for (; s->entries && i < n; i++) {
		const struct atom_entry *e = atom_entry_of(s->items[i]);

		if (!e)
			break;
		if (item_shown(e, now)) {
			s->items[s->n] = s->items[i];
			s->entries[s->n++] = e;
		} else if (e->expires > s->changed) {
			s->changed = e->expires;
		}
	}
	if (!s->entries || i < n) {
		free(s->items);
		free(s->entries);
		return -1;
	}
	if (history_changed(app->history, f, &last) &&
	    (time_t)(last.ms / 1000) > s->changed)
		s->changed = (time_t)(last.ms / 1000);
	return 0;
}

/*
 * Answer r with body (type) and its validators: a strong ETag of the bytes
 * (the same in every tickerd that holds the same items, so a balancer may
 * send a reader to any of them) and Last-Modified, the second of the last
 * change; 304 when the client's copy is current.
 */
static enum door_next
respond(struct door_conn *c, const struct request *r, const char *type,
        const char *body, size_t len, time_t changed)
{
	char etag[FILES_ETAG_LEN], date[FILES_DATE_LEN], extra[160];
	time_t now = time(NULL);

	files_etag(body, len, "", etag);
	/*
	 * Another change may still come within the second of the last one:
	 * a copy made in that second is dated a second earlier, so that
	 * If-Modified-Since never keeps it (RFC 9110 8.8.2.2).
	 */
	files_http_date(changed < now ? changed : now - 1, date);
	snprintf(extra, sizeof(extra),
	         "ETag: %s\r\n"
	         "Last-Modified: %s\r\n"
	         "Access-Control-Allow-Origin: *\r\n",
	         etag, date);
	if (http_not_modified(r, etag, changed))
		return door_respond_cached(c, r, 304, NULL, NULL, 0,
		                           OUTPUTS_CACHE, extra);
	return door_respond_cached(c, r, 200, type, body, len, OUTPUTS_CACHE,
	                           extra);
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

/* One output: topics=, the items shown, the body (atom or not), answered. */
static enum door_next
serve(struct door_conn *c, const struct request *r, int atom)
{
	struct topic_filter f;
	struct shown s;
	enum door_next next;
	size_t len = 0;
	char *body = NULL;

	if (http_topics(c, r, &f))
		return DOOR_CLOSE;
	if (!collect(door_app(c), &f, time(NULL), &s)) {
		body = atom ? feed_atom(&f, &s, &len) : items_json(&s, &len);
		free(s.items);
		free(s.entries);
	}
	if (!body) {
		log_err("out of memory for %s",
		        atom ? "/feed.atom" : "/items.json");
		return door_refuse(c, r, 500, "out of memory", NULL);
	}
	next = respond(c, r,
	               atom ? "application/atom+xml; charset=utf-8"
	                    : "application/json",
	               body, len, s.changed);
	free(body);
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
