/* item_fields.c: the item's fields as a table: names, readers, limits. */
#include "item_fields.h"
#include "item_text.h"

#include "isotime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* What a reader returns when the item is complete (a retraction). */
#define FIELD_END 1

struct item_field;

/*
 * A field's reader.  v is the payload's value under name, the first of the
 * row's input names present in it (v NULL, name the row's first, when none
 * is; a null is present: most readers take it as not given).  Sets *out to a
 * new reference to send under the row's key, or leaves it NULL to send nothing.
 * Returns 0, FIELD_END when the item is complete and later rows are not read,
 * or -1 with b->err filled (*out left NULL).
 */
typedef int field_reader(const struct item_field *f, json_t *v,
                         const char *name, struct item_build *b, json_t **out);

/* One row of the table: one field of the item.  Static, read-only. */
struct item_field {
	const char *key;      /* its name on the wire; NULL: read, never sent */
	const char *names[4]; /* input names: ours, then ninjs'; NULL-ended */
	field_reader *read;
	size_t max; /* limit: bytes, entries or largest value */
	int (*valid)(const char *s); /* text: a further check, or NULL */
};

/* An optional URL (v may be NULL or null): 0, or -1 naming it as what. */
static int
check_url(json_t *v, const char *what, struct item_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    !text_url_is_safe(json_string_value(v), json_string_length(v)))
		return item_fail(err, ITEM_ERR_URL,
		                 "%s must be an http or https URL", what);
	return 0;
}

/* An optional boolean (v may be NULL or null): 0, or -1 naming it. */
static int
check_boolean(json_t *v, const char *what, struct item_error *err)
{
	if (v && !json_is_null(v) && !json_is_boolean(v))
		return item_fail(err, ITEM_ERR_FIELD,
		                 "%s must be true or false", what);
	return 0;
}

/* Read an optional date-time into *t: 1 if given, 0 if not, -1 if bad. */
static int
parse_time(json_t *v, const char *what, time_t *t, struct item_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || isotime_parse(json_string_value(v), t))
		return item_fail(err, ITEM_ERR_TIME,
		                 "%s is not an ISO 8601 date-time", what);
	return 1;
}

/* *out = v, a new reference; v NULL (its allocation failed) is an error. */
static int
give(json_t **out, json_t *v, struct item_build *b)
{
	if (!v)
		return item_fail(b->err, ITEM_ERR_NOMEM, "out of memory");
	*out = v;
	return 0;
}

/* A UTC date-time, as it goes on the wire, into *out. */
static int
give_time(json_t **out, time_t t, struct item_build *b)
{
	char buf[ISOTIME_LEN];

	isotime_format(t, buf);
	return give(out, json_string(buf), b);
}

/* id: 1-max bytes of text; not given: "h-" + FNV-1a of the payload. */
static int
read_id(const struct item_field *f, json_t *v, const char *name,
        struct item_build *b, json_t **out)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char derived[19];

	if (v) {
		if (!json_is_string(v) || !json_string_length(v) ||
		    json_string_length(v) > f->max ||
		    text_has_controls(json_string_value(v),
		                      json_string_length(v)))
			return item_fail(b->err, ITEM_ERR_FIELD,
			                 "%s must be 1-%zu bytes of text", name,
			                 f->max);
		return give(out, json_incref(v), b);
	}
	for (size_t i = 0; i < b->hashed_len; i++) {
		h ^= (unsigned char)b->hashed[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(derived, sizeof(derived), "h-%016llx", (unsigned long long)h);
	b->it->id_derived = 1;
	return give(out, json_string(derived), b);
}

/* seq: null until item_set_seq() records the log position. */
static int
read_seq(const struct item_field *f, json_t *v, const char *name,
         struct item_build *b, json_t **out)
{
	(void)f, (void)v, (void)name;
	return give(out, json_null(), b);
}

/* topic: the channel's, never the payload's. */
static int
read_topic(const struct item_field *f, json_t *v, const char *name,
           struct item_build *b, json_t **out)
{
	(void)f, (void)v, (void)name;
	return give(out, json_string(b->topic), b);
}

/*
 * status: usable (nothing sent), or withheld / canceled: a retraction,
 * which needs its id and ends the item (nothing else is read).
 */
static int
read_status(const struct item_field *f, json_t *v, const char *name,
            struct item_build *b, json_t **out)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	const char *said;

	(void)f;
	b->it->status = ITEM_USABLE;
	if (!v || json_is_null(v) || !strcasecmp(s, "usable"))
		return 0;
	if (!strcasecmp(s, "withheld"))
		b->it->status = ITEM_WITHHELD, said = "withheld";
	else if (!strcasecmp(s, "canceled") || !strcasecmp(s, "cancelled"))
		b->it->status = ITEM_CANCELED, said = "canceled";
	else
		return item_fail(b->err, ITEM_ERR_STATUS,
		                 "%s must be usable, withheld or canceled",
		                 name);
	if (b->it->id_derived)
		return item_fail(b->err, ITEM_ERR_FIELD,
		                 "a withheld or canceled item needs its id");
	return give(out, json_string(said), b) ? -1 : FIELD_END;
}

/*
 * ninjs headlines[]: the value of the one with role "main", else the first
 * with a value; NULL if none (borrowed).
 */
static json_t *
ninjs_headline(json_t *list)
{
	json_t *h, *first = NULL;
	size_t i;

	if (!json_is_array(list))
		return NULL;
	json_array_foreach(list, i, h)
	{
		json_t *role = json_object_get(h, "role");

		if (!first)
			first = json_object_get(h, "value");
		if (json_is_string(role) &&
		    !strcmp(json_string_value(role), "main"))
			return json_object_get(h, "value");
	}
	return first;
}

/* headline: required text with a visible character (ours or ninjs'). */
static int
read_headline(const struct item_field *f, json_t *v, const char *name,
              struct item_build *b, json_t **out)
{
	if (v && !strcmp(name, "headlines")) {
		v = ninjs_headline(v);
		name = "headlines[].value";
	}
	if (!v)
		return item_fail(b->err, ITEM_ERR_HEADLINE, "no headline");
	if (!json_is_string(v))
		return item_fail(b->err, ITEM_ERR_HEADLINE,
		                 "%s must be a string", name);
	if (text_check_headline(json_string_value(v), json_string_length(v),
	                        f->max, name, b->err))
		return -1;
	return give(out, json_incref(v), b);
}

/* time: ISO 8601 sent as UTC; not given: the receive time. */
static int
read_time(const struct item_field *f, json_t *v, const char *name,
          struct item_build *b, json_t **out)
{
	time_t t = b->now;

	(void)f;
	if (parse_time(v, name, &t, b->err) < 0)
		return -1;
	b->it->time = t;
	return give_time(out, t, b);
}

/*
 * expires: ISO 8601 sent as UTC, when given; the item leaves the screens
 * then (it->expires).  One already past on arrival is refused: it would
 * never be shown.
 */
static int
read_expires(const struct item_field *f, json_t *v, const char *name,
             struct item_build *b, json_t **out)
{
	char when[ISOTIME_LEN];
	time_t t;
	int given = parse_time(v, name, &t, b->err);

	(void)f;
	if (given <= 0)
		return given;
	if (t <= b->now) {
		isotime_format(t, when);
		return item_fail(b->err, ITEM_ERR_EXPIRED,
		                 "expires %s: already past", when);
	}
	b->it->expires = t;
	return give_time(out, t, b);
}

/*
 * embargo: a time still to come holds the item until then (it->embargo;
 * the time is not sent: once released it says nothing).  More than
 * EMBARGO_MAX_S ahead is refused as a mistake.  A bad one is called
 * "embargo" whichever of its names the payload used.
 */
static int
read_embargo(const struct item_field *f, json_t *v, const char *name,
             struct item_build *b, json_t **out)
{
	char when[ISOTIME_LEN];
	time_t t = 0;

	(void)name, (void)out;
	if (parse_time(v, f->names[0], &t, b->err) < 0)
		return -1;
	if (t <= b->now)
		return 0;
	if (t - b->now > EMBARGO_MAX_S) {
		isotime_format(t, when);
		return item_fail(b->err, ITEM_ERR_EMBARGO,
		                 "embargoed until %s: more than a year ahead",
		                 when);
	}
	b->it->embargo = t;
	return 0;
}

/*
 * priority: flash, bulletin, urgent or routine (any case), or ninjs
 * urgency 1 flash, 2 bulletin, 3 urgent, 4-9 routine; not given: routine.
 */
static int
read_priority(const struct item_field *f, json_t *v, const char *name,
              struct item_build *b, json_t **out)
{
	static const char *const names[] = {"flash", "bulletin", "urgent",
	                                    "routine"};
	json_int_t n;

	(void)f;
	if (!v || json_is_null(v))
		return give(out, json_string(names[3]), b);
	if (!strcmp(name, "urgency")) {
		n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 1 || n > 9)
			return item_fail(b->err, ITEM_ERR_PRIORITY,
			                 "urgency must be a whole number 1-9");
		return give(out, json_string(names[n < 4 ? n - 1 : 3]), b);
	}
	for (size_t i = 0; json_is_string(v) && i < 4; i++)
		if (!strcasecmp(json_string_value(v), names[i]))
			return give(out, json_string(names[i]), b);
	return item_fail(b->err, ITEM_ERR_PRIORITY,
	                 "priority must be flash, bulletin, urgent or routine");
}

/* Optional text: 1-max bytes, no control characters, f->valid if set. */
static int
read_text(const struct item_field *f, json_t *v, const char *name,
          struct item_build *b, json_t **out)
{
	const char *s;
	size_t len;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return item_fail(b->err, ITEM_ERR_FIELD, "%s must be a string",
		                 name);
	s = json_string_value(v);
	len = json_string_length(v);
	if (!len || len > f->max || text_has_controls(s, len))
		return item_fail(
		    b->err, ITEM_ERR_FIELD,
		    "%s must be 1-%zu bytes of text without control "
		    "characters",
		    name, f->max);
	if (f->valid && !f->valid(s))
		return item_fail(b->err, ITEM_ERR_FIELD,
		                 "%s \"%.40s\" is not valid", name, s);
	return give(out, json_incref(v), b);
}

/* Optional http or https URL. */
static int
read_url(const struct item_field *f, json_t *v, const char *name,
         struct item_build *b, json_t **out)
{
	(void)f;
	if (check_url(v, name, b->err))
		return -1;
	return json_is_string(v) ? give(out, json_incref(v), b) : 0;
}

/* Optional true or false. */
static int
read_boolean(const struct item_field *f, json_t *v, const char *name,
             struct item_build *b, json_t **out)
{
	(void)f;
	if (check_boolean(v, name, b->err))
		return -1;
	return json_is_boolean(v) ? give(out, json_incref(v), b) : 0;
}

/*
 * Check related[i] and make its copy {headline, url?, premium?} in *out
 * (a new reference).  0, or -1 with err filled.
 */
static int
related_entry(json_t *r, size_t i, json_t **out, struct item_error *err)
{
	json_t *h = json_object_get(r, "headline");
	json_t *u = json_object_get(r, "url");
	json_t *p = json_object_get(r, "premium");
	json_t *o;

	if (!json_is_object(r) || !json_is_string(h) ||
	    text_check_headline(json_string_value(h), json_string_length(h),
	                        ITEM_MAX_HEADLINE, "related headline", err) ||
	    check_url(u, "related url", err) ||
	    check_boolean(p, "related premium", err))
		return item_fail(err, ITEM_ERR_HEADLINE,
		                 "related[%zu] needs a headline", i);
	o = json_object();
	if (!o || json_object_set(o, "headline", h) ||
	    (json_is_string(u) && json_object_set(o, "url", u)) ||
	    (json_is_boolean(p) && json_object_set(o, "premium", p))) {
		json_decref(o);
		return item_fail(err, ITEM_ERR_NOMEM, "out of memory");
	}
	*out = o;
	return 0;
}

/* related: at most max entries, each {headline, url?, premium?}. */
static int
read_related(const struct item_field *f, json_t *v, const char *name,
             struct item_build *b, json_t **out)
{
	json_t *list, *r, *o = NULL;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > f->max)
		return item_fail(b->err, ITEM_ERR_FIELD,
		                 "%s must be an array of at most %zu items",
		                 name, f->max);
	if (give(out, json_array(), b))
		return -1;
	list = *out;
	json_array_foreach(v, i, r)
	{
		if (related_entry(r, i, &o, b->err) ||
		    (json_array_append_new(list, o) &&
		     item_fail(b->err, ITEM_ERR_NOMEM, "out of memory"))) {
			json_decref(list);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

/*
 * version: a whole number 1-max, as a JSON integer or (ninjs) a digit
 * string; not given: 1, which the history may raise (a correction).
 */
static int
read_version(const struct item_field *f, json_t *v, const char *name,
             struct item_build *b, json_t **out)
{
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	size_t len = strlen(s);
	json_int_t n = json_is_integer(v) ? json_integer_value(v) : 0;

	if (len && len <= 9 && strspn(s, "0123456789") == len)
		n = atol(s);
	b->it->version = 1;
	if (v && !json_is_null(v)) {
		if (n < 1 || (size_t)n > f->max)
			return item_fail(b->err, ITEM_ERR_FIELD,
			                 "%s must be a whole number from 1 to "
			                 "%zu",
			                 name, f->max);
		b->it->version = (long)n;
		b->it->version_given = 1;
	}
	return give(out, json_integer(b->it->version), b);
}

/*
 * The item's fields, in the order their keys go out on the wire: {wire key
 * (NULL: read, never sent), {input names: ours, then ninjs'}, reader,
 * limit, further check of text}.  A row reads the first of its input names
 * present in the payload, checks it against its limit and sends what it
 * makes under its key.  A retraction ends at the status row: {id, seq,
 * topic, status}.  To add a field, add its row where its key goes.
 */
static const struct item_field fields[] = {
    {"id", {"id", "uri"}, read_id, 256, NULL},
    {"seq", {NULL}, read_seq, 0, NULL},
    {"topic", {NULL}, read_topic, 0, NULL},
    {"status", {"status", "pubstatus", "pubStatus"}, read_status, 0, NULL},
    {"headline",
     {"headline", "headlines"},
     read_headline,
     ITEM_MAX_HEADLINE,
     NULL},
    {"time", {"time", "versioncreated", "versionCreated"}, read_time, 0, NULL},
    {NULL, {"embargo", "embargoed", "embargoedUntil"}, read_embargo, 0, NULL},
    {"priority", {"priority", "urgency"}, read_priority, 0, NULL},
    {"label", {"label"}, read_text, 100, NULL},
    {"url", {"url"}, read_url, ITEM_URL_MAX, NULL},
    {"source",
     {"source", "copyrightholder", "copyrightHolder"},
     read_text,
     200,
     NULL},
    {"lang", {"lang", "language"}, read_text, 35, text_lang_is_valid},
    {"premium", {"premium"}, read_boolean, 0, NULL},
    {"related", {"related"}, read_related, 20, NULL},
    {"expires", {"expires"}, read_expires, 0, NULL},
    {"version", {"version"}, read_version, 999999999, NULL},
};

/*
 * The first of f's input names present in in (borrowed), or NULL; *name
 * is that name (f's first, or its key, when none is).
 */
static json_t *
field_value(const struct item_field *f, json_t *in, const char **name)
{
	size_t n = sizeof(f->names) / sizeof(f->names[0]);

	*name = f->names[0] ? f->names[0] : f->key;
	for (size_t k = 0; k < n && f->names[k]; k++) {
		json_t *v = json_object_get(in, f->names[k]);

		if (v) {
			*name = f->names[k];
			return v;
		}
	}
	return NULL;
}

int
item_fields_read(struct item_build *b)
{
	struct item *it = b->it;

	it->json = json_object();
	if (!it->json)
		return item_fail(b->err, ITEM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct item_field *f = &fields[i];
		const char *name;
		json_t *v = field_value(f, b->in, &name), *out = NULL;
		int rc = f->read(f, v, name, b, &out);

		if (rc < 0) {
			/* The field it concerns: the row's. */
			if (!b->err->field[0] &&
			    b->err->reason != ITEM_ERR_NOMEM)
				snprintf(b->err->field, sizeof(b->err->field),
				         "%s", f->key ? f->key : f->names[0]);
			return -1;
		}
		if (out && json_object_set_new(it->json, f->key, out))
			return item_fail(b->err, ITEM_ERR_NOMEM,
			                 "out of memory for the item's %s",
			                 f->key);
		if (rc == FIELD_END)
			break;
	}
	return 0;
}
