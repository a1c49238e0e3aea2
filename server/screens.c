/* screens.c: the named screens: who they are, how far behind, stale or not. */
#include "screens.h"

#include "config.h"
#include "fanout.h"
#include "isotime.h"
#include "log.h"
#include "metrics.h"
#include "screen_judge.h"
#include "topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCREEN_FORGET_MS (24ULL * 3600 * 1000) /* gone that long: forgotten */

/*
 * One named screen, from its first report until it has been gone a day (or
 * its place is needed).  Its lag is kept up to date from the ring: from,
 * the first position after what it drew, counted up to counted_to.
 */
struct screen {
	char name[SCREEN_NAME_MAX + 1];
	const void *owner; /* its connection's session; NULL: gone */
	char ip[48];
	struct topic_filter filter; /* a copy: kept while it is gone */
	uint64_t since_ms;          /* when its connection named it */
	uint64_t heard_ms;          /* its last report taken */
	uint64_t gone_ms;           /* when its connection closed */
	struct seq seq;             /* the last message it drew */
	int has_seq;
	int visible;
	uint64_t counted_to; /* ring position counted up to */
	struct screen_lag lag;
	enum screen_staleness stale;
};

struct screens {
	const struct cfg *cfg;
	const struct fan *fan;
	struct screen *at[SCREENS_MAX];
	unsigned n;
};

struct screens *
screens_new(const struct cfg *cfg, const struct fan *fan)
{
	struct screens *t = calloc(1, sizeof(*t));

	if (t) {
		t->cfg = cfg;
		t->fan = fan;
	}
	return t;
}

void
screens_free(struct screens *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->n; i++)
		free(t->at[i]);
	free(t);
}

/* The screen named name, or owned by owner (NULL: look by name only). */
static struct screen *
find(struct screens *t, const char *name, const void *owner)
{
	for (unsigned i = 0; i < t->n; i++)
		if ((owner && t->at[i]->owner == owner) ||
		    (name && !strcmp(t->at[i]->name, name)))
			return t->at[i];
	return NULL;
}

/* Forget the i-th screen. */
static void
forget(struct screens *t, unsigned i)
{
	free(t->at[i]);
	t->at[i] = t->at[--t->n];
}

/*
 * A place for a new screen: a free one, else the one gone longest.  NULL
 * when every screen kept is connected (or on ENOMEM).
 */
static struct screen *
make_room(struct screens *t, const char *name)
{
	unsigned oldest = SCREENS_MAX;
	struct screen *s;

	for (unsigned i = 0; t->n == SCREENS_MAX && i < t->n; i++)
		if (!t->at[i]->owner &&
		    (oldest == SCREENS_MAX ||
		     t->at[i]->gone_ms < t->at[oldest]->gone_ms))
			oldest = i;
	if (t->n == SCREENS_MAX) {
		if (oldest == SCREENS_MAX)
			return NULL;
		log_notice("screen %s forgotten to make room for %s",
		           t->at[oldest]->name, name);
		forget(t, oldest);
	}
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	snprintf(s->name, sizeof(s->name), "%s", name);
	t->at[t->n++] = s;
	return s;
}

/* Count the messages of s's topics logged since the last count. */
static void
update_lag(struct screens *t, struct screen *s)
{
	uint64_t head = fan_head(t->fan);

	if (s->counted_to >= head)
		return;
	s->lag.messages +=
	    fan_count(t->fan, &s->filter, s->counted_to + 1, &s->lag.oldest_ms);
	s->counted_to = head;
}

/* s drew up to r->seq: measure its lag from there. */
static void
measure_from(struct screens *t, struct screen *s, const struct screen_report *r)
{
	uint64_t from = fan_after(t->fan, r->has_seq ? &r->seq : NULL);

	s->seq = r->seq;
	s->has_seq = r->has_seq;
	s->lag.messages = 0;
	s->lag.oldest_ms = 0;
	s->counted_to = from - 1;
	update_lag(t, s);
}

/*
 * Who is the screen r names, for owner?  Its screen, one of that name it
 * takes back (gone, or its connection silent for SCREEN_TAKEOVER_MS), or a
 * new one; NULL with *why set when it may not be.
 */
static struct screen *
claim(struct screens *t, const void *owner, const struct screen_report *r,
      uint64_t now_ms, enum screen_refusal *why)
{
	struct screen *s = find(t, NULL, owner), *named;

	if (s) {
		*why = strcmp(s->name, r->name) ? SCREEN_NAME_CHANGED
		       : now_ms - s->heard_ms < SCREEN_REPORT_GAP_MS
		           ? SCREEN_TOO_FREQUENT
		           : SCREEN_OK;
		return *why ? NULL : s;
	}
	named = find(t, r->name, NULL);
	if (named && named->owner) {
		/* Another connection holds it: a duplicate, or the same screen
		 * back while its old connection is not seen closed yet. */
		if (now_ms <= named->heard_ms + SCREEN_TAKEOVER_MS) {
			*why = SCREEN_NAME_TAKEN;
			return NULL;
		}
		log_notice("screen %s taken over by a new connection: the "
		           "old one sent nothing for %llu s",
		           named->name,
		           (unsigned long long)(now_ms - named->heard_ms) /
		               1000);
	}
	s = named ? named : make_room(t, r->name);
	if (!s) {
		*why = SCREEN_FULL;
		return NULL;
	}
	s->owner = owner;
	s->since_ms = now_ms;
	return s;
}

/*
 * Count and log a refusal: one that closes the connection at notice (it
 * costs the client a reconnect), one only ignored at info (it may repeat).
 */
static enum screen_refusal
refuse(enum screen_refusal why, const char *ip, const char *name)
{
	int code;

	metrics.screen_refused[why]++;
	if (screen_refusal_answer(why, &code))
		log_notice("screen report from %s%s%s refused: %s", ip,
		           name ? " naming " : "", name ? name : "",
		           screen_refusal_name(why));
	else
		log_info("screen report from %s%s%s ignored: %s", ip,
		         name ? " naming " : "", name ? name : "",
		         screen_refusal_name(why));
	return why;
}

enum screen_refusal
screens_report(struct screens *t, const void *owner, const char *ip,
               const struct topic_filter *filter, const char *text, size_t len,
               uint64_t now_ms)
{
	struct screen_report r;
	enum screen_refusal why = screen_report_parse(text, len, &r);
	struct screen *s;
	int is_new;

	if (why)
		return refuse(why, ip, NULL);
	is_new = !find(t, NULL, owner);
	if (!(s = claim(t, owner, &r, now_ms, &why)))
		return refuse(why, ip, r.name);
	if (is_new) {
		snprintf(s->ip, sizeof(s->ip), "%s", ip);
		s->filter = *filter;
		log_notice("screen %s connected from %s", s->name, ip);
	}
	s->heard_ms = now_ms;
	s->visible = r.visible;
	measure_from(t, s, &r);
	metrics.screen_reports++;
	return SCREEN_OK;
}

void
screens_gone(struct screens *t, const void *owner, uint64_t now_ms)
{
	struct screen *s = find(t, NULL, owner);

	if (!s)
		return;
	s->owner = NULL;
	s->gone_ms = now_ms;
	log_notice("screen %s disconnected", s->name);
}

/* Judge s now: log and count it turning stale, log it fresh again. */
static void
judge(struct screens *t, struct screen *s, uint64_t now_ms)
{
	uint64_t stale_ms = t->cfg->stale_after_ms;
	enum screen_staleness was = s->stale;

	update_lag(t, s);
	s->stale = screen_judge(s->heard_ms, &s->lag, now_ms, stale_ms);
	if (!was == !s->stale)
		return;
	if (!s->stale) {
		log_notice("screen %s is fresh again", s->name);
		return;
	}
	metrics.screens_stale_total++;
	if (s->stale == SCREEN_SILENT)
		log_warn("screen %s is stale: no report for %llu s%s", s->name,
		         (unsigned long long)((now_ms - s->heard_ms) / 1000),
		         s->owner ? "" : " (disconnected)");
	else
		log_warn("screen %s is stale: %llu messages behind, the "
		         "oldest logged %llu s ago",
		         s->name, (unsigned long long)s->lag.messages,
		         (unsigned long long)screen_lag_s(&s->lag, now_ms));
}

void
screens_sweep(struct screens *t, uint64_t now_ms)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct screen *s = t->at[i];

		if (!s->owner && now_ms > s->gone_ms &&
		    now_ms - s->gone_ms > SCREEN_FORGET_MS) {
			log_notice("screen %s forgotten: gone for a day",
			           s->name);
			forget(t, i--);
			continue;
		}
		judge(t, s, now_ms);
	}
}

unsigned
screens_connected(const struct screens *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n; i++)
		n += t->at[i]->owner != NULL;
	return n;
}

unsigned
screens_stale(const struct screens *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n; i++)
		n += t->at[i]->stale != SCREEN_FRESH;
	return n;
}

/* A wall-clock time in ms as "YYYY-MM-DDTHH:MM:SSZ" (a new JSON string). */
static json_t *
time_json(uint64_t ms)
{
	char out[ISOTIME_LEN];

	isotime_format((time_t)(ms / 1000), out);
	return json_string(out);
}

/* One screen as /screens shows it (a new object), or NULL on ENOMEM. */
static json_t *
screen_json(const struct screen *s, uint64_t now_ms)
{
	json_t *o = json_object(), *topics = json_array();
	char seq[SEQ_STR_LEN];
	const char *stale = screen_staleness_name(s->stale);

	for (int i = 0; topics && i < s->filter.count; i++)
		json_array_append_new(topics, json_string(s->filter.names[i]));
	if (s->has_seq)
		seq_format(s->seq, seq);
	if (!o || !topics ||
	    json_object_set_new(o, "name", json_string(s->name)) ||
	    json_object_set_new(o, "connected", json_boolean(s->owner)) ||
	    json_object_set_new(o, "topics", json_incref(topics)) ||
	    json_object_set_new(o, "address", json_string(s->ip)) ||
	    json_object_set_new(o, "connected_since", time_json(s->since_ms)) ||
	    json_object_set_new(o, "last_heard", time_json(s->heard_ms)) ||
	    json_object_set_new(o, "seq",
	                        s->has_seq ? json_string(seq) : json_null()) ||
	    json_object_set_new(o, "visible", json_boolean(s->visible)) ||
	    json_object_set_new(o, "lag_messages",
	                        json_integer((json_int_t)s->lag.messages)) ||
	    json_object_set_new(
	        o, "lag_s",
	        json_integer((json_int_t)screen_lag_s(&s->lag, now_ms))) ||
	    json_object_set_new(o, "stale", json_boolean(stale)) ||
	    json_object_set_new(o, "stale_reason",
	                        stale ? json_string(stale) : json_null())) {
		json_decref(o);
		o = NULL;
	}
	json_decref(topics);
	return o;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp((*(struct screen *const *)a)->name,
	              (*(struct screen *const *)b)->name);
}

char *
screens_json(struct screens *t, uint64_t now_ms)
{
	json_t *o = json_object(), *list = json_array();
	char *text = NULL;
	int failed = !o || !list;

	qsort(t->at, t->n, sizeof(t->at[0]), by_name);
	for (unsigned i = 0; !failed && i < t->n; i++) {
		judge(t, t->at[i], now_ms);
		failed =
		    json_array_append_new(list, screen_json(t->at[i], now_ms));
	}
	if (!failed &&
	    !json_object_set_new(
	        o, "stale_after_s",
	        json_integer((json_int_t)(t->cfg->stale_after_ms / 1000))) &&
	    !json_object_set_new(o, "screens", json_incref(list)))
		text = json_dumps(o, JSON_COMPACT);
	json_decref(list);
	json_decref(o);
	return text;
}
