/* item.c: parse, validate and normalise one published payload. */
#include "item.h"

#include "isotime.h"
#include "topics.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ID_MAX_LEN     256
#define LABEL_MAX_LEN  100
#define SOURCE_MAX_LEN 200
#define URL_MAX_LEN    2048
#define LANG_MAX_LEN   35
#define RELATED_MAX    20
#define VERSION_MAX    999999999L

static const char *const reason_names[ITEM_REASON_COUNT] = {
    [ITEM_OK] = "ok",
    [ITEM_ERR_TOO_LARGE] = "payload_too_large",
    [ITEM_ERR_UTF8] = "invalid_utf8",
    [ITEM_ERR_JSON] = "bad_json",
    [ITEM_ERR_HEADLINE] = "bad_headline",
    [ITEM_ERR_FIELD] = "bad_field",
    [ITEM_ERR_URL] = "bad_url",
    [ITEM_ERR_TIME] = "bad_time",
    [ITEM_ERR_PRIORITY] = "bad_priority",
    [ITEM_ERR_STATUS] = "bad_status",
    [ITEM_ERR_TOPIC] = "bad_topic",
    [ITEM_ERR_EMBARGO] = "embargoed",
};

static const char *const priority_names[] = {"flash", "bulletin", "urgent",
                                             "routine"};

const char *
item_reason_name(enum item_reason reason)
{
	if (reason < 0 || reason >= ITEM_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

/* Record the first error only, as json_error_t does. Always returns -1. */
static int
fail(struct item_error *err, enum item_reason reason, const char *fmt, ...)
{
	va_list ap;

	if (err->reason != ITEM_OK)
		return -1;
	err->reason = reason;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	/* It may quote the payload: one line, no terminal escapes. */
	for (char *p = err->text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

/* 64-bit FNV-1a: a stable id for payloads that bring none. */
static void
derive_id(const char *p, size_t len, char out[19])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(out, 19, "h-%016llx", (unsigned long long)h);
}

/*
 * 1 if s[0..len) holds a C0 or C1 control character or DEL.  The text is
 * valid UTF-8 already, so C1 controls are exactly the pairs C2 80..C2 9F.
 */
static int
has_control_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return 1;
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

/*
 * 1 if code point c shows nothing on a screen: white space (ASCII and
 * Unicode: no-break, ideographic, en/em ... spaces, line and paragraph
 * separators) or an invisible character (zero-width space and joiners,
 * word joiner, byte order mark, soft hyphen, bidi marks and isolates,
 * fillers, variation selectors, tags).
 */
static int
is_invisible(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} ranges[] = {
	    {0x0009, 0x000d},   {0x0020, 0x0020},   {0x0085, 0x0085},
	    {0x00a0, 0x00a0},   {0x00ad, 0x00ad},   {0x034f, 0x034f},
	    {0x061c, 0x061c},   {0x115f, 0x1160},   {0x1680, 0x1680},
	    {0x17b4, 0x17b5},   {0x180b, 0x180f},   {0x2000, 0x200f},
	    {0x2028, 0x202f},   {0x205f, 0x2064},   {0x2066, 0x206f},
	    {0x2800, 0x2800},   {0x3000, 0x3000},   {0x3164, 0x3164},
	    {0xfe00, 0xfe0f},   {0xfeff, 0xfeff},   {0xffa0, 0xffa0},
	    {0xfff9, 0xfffb},   {0x1d173, 0x1d17a}, {0xe0000, 0xe007f},
	    {0xe0100, 0xe01ef},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (c >= ranges[i].lo && c <= ranges[i].hi)
			return 1;
	return 0;
}

/*
 * The code point starting at s[*i] (s[0..len) is valid UTF-8); *i moves
 * past it.  A byte that starts no sequence is returned as itself.
 */
static uint32_t
next_code_point(const char *s, size_t len, size_t *i)
{
	const unsigned char *p = (const unsigned char *)s + *i;
	size_t left = len - *i, n;
	uint32_t c;

	if (p[0] < 0xc0) /* ASCII, or a stray continuation byte */
		n = 1, c = p[0];
	else if (p[0] < 0xe0)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] < 0xf0)
		n = 3, c = p[0] & 0x0f;
	else
		n = 4, c = p[0] & 0x07;
	if (n > left)
		n = 1, c = p[0];
	for (size_t k = 1; k < n; k++)
		c = c << 6 | (p[k] & 0x3f);
	*i += n;
	return c;
}

/* 1 if s[0..len) (valid UTF-8) has no visible character. */
static int
is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len;)
		if (!is_invisible(next_code_point(s, len, &i)))
			return 0;
	return 1;
}

/* Check a headline's text; on success returns 0. */
static int
check_headline(const char *s, size_t len, const char *what,
               struct item_error *err)
{
	if (!len || is_blank(s, len))
		return fail(err, ITEM_ERR_HEADLINE,
		            "%s is empty (no visible character)", what);
	if (len > ITEM_MAX_HEADLINE)
		return fail(err, ITEM_ERR_HEADLINE,
		            "%s is %zu bytes, more than %d", what, len,
		            ITEM_MAX_HEADLINE);
	if (has_control_chars(s, len))
		return fail(err, ITEM_ERR_HEADLINE,
		            "%s contains control characters", what);
	return 0;
}

/* 1 if s is an absolute http(s) URL with a host and no blanks/controls. */
static int
url_is_safe(const char *s, size_t len)
{
	size_t skip;

	if (len > URL_MAX_LEN)
		return 0;
	if (!strncasecmp(s, "https://", 8))
		skip = 8;
	else if (!strncasecmp(s, "http://", 7))
		skip = 7;
	else
		return 0;
	if (len == skip || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return !has_control_chars(s, len);
}

/* 1 if s looks like a BCP 47 tag: "fr", "nb-NO", "zh-Hant-TW". */
static int
lang_is_valid(const char *s)
{
	size_t len = strlen(s), part = 0;

	if (!len || len > LANG_MAX_LEN)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '-') {
			if (!part || part > 8)
				return 0;
			part = 0;
		} else if (isalnum((unsigned char)s[i])) {
			if (i < 2 && !isalpha((unsigned char)s[i]))
				return 0;
			part++;
		} else {
			return 0;
		}
	}
	return strchr(s, '-') ? (size_t)(strchr(s, '-') - s) >= 2 : len >= 2;
}

/* The first of the given keys present in obj, or NULL (borrowed). */
static json_t *
first_of(json_t *obj, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(obj, a);

	if (!v && b)
		v = json_object_get(obj, b);
	if (!v && c)
		v = json_object_get(obj, c);
	return v;
}

/* Which of the given keys is present, for error messages. */
static const char *
name_of(json_t *obj, const char *a, const char *b, const char *c)
{
	if (json_object_get(obj, a))
		return a;
	if (b && json_object_get(obj, b))
		return b;
	return c ? c : a;
}

/*
 * Copy an optional string field into out under key, checking its type,
 * length and (when check is given) its content.  Returns 0 or -1.
 */
static int
copy_string(json_t *out, const char *key, json_t *v, const char *field,
            size_t max, int (*check)(const char *), struct item_error *err)
{
	const char *s;
	size_t len;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fail(err, ITEM_ERR_FIELD, "%s must be a string", field);
	s = json_string_value(v);
	len = json_string_length(v);
	if (!len || len > max || has_control_chars(s, len))
		return fail(err, ITEM_ERR_FIELD,
		            "%s must be 1-%zu bytes of text without control "
		            "characters",
		            field, max);
	if (check && !check(s))
		return fail(err, ITEM_ERR_FIELD, "%s \"%.40s\" is not valid",
		            field, s);
	json_object_set_new(out, key, json_stringn(s, len));
	return 0;
}

/* Read a time field into *t; 1 if present, 0 if absent, -1 if invalid. */
static int
read_time(json_t *v, const char *field, time_t *t, struct item_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || isotime_parse(json_string_value(v), t))
		return fail(err, ITEM_ERR_TIME,
		            "%s is not an ISO 8601 date-time", field);
	return 1;
}

static int
set_time(json_t *out, const char *key, time_t t)
{
	char buf[ISOTIME_LEN];

	isotime_format(t, buf);
	return json_object_set_new(out, key, json_string(buf));
}

/* Map priority or ninjs urgency (1 flash, 2 bulletin, 3 urgent, 4-9). */
static int
read_priority(json_t *in, const char **out, struct item_error *err)
{
	json_t *p = json_object_get(in, "priority");
	json_t *u = json_object_get(in, "urgency");

	*out = "routine";
	if (p && !json_is_null(p)) {
		if (json_is_string(p))
			for (size_t i = 0; i < 4; i++)
				if (!strcasecmp(json_string_value(p),
				                priority_names[i])) {
					*out = priority_names[i];
					return 0;
				}
		return fail(err, ITEM_ERR_PRIORITY,
		            "priority must be flash, bulletin, urgent or "
		            "routine");
	}
	if (u && !json_is_null(u)) {
		json_int_t n = json_is_integer(u) ? json_integer_value(u) : 0;

		if (n < 1 || n > 9)
			return fail(err, ITEM_ERR_PRIORITY,
			            "urgency must be a whole number 1-9");
		*out = priority_names[n < 4 ? n - 1 : 3];
	}
	return 0;
}

static int
read_status(json_t *in, enum item_status *out, struct item_error *err)
{
	json_t *v = first_of(in, "status", "pubstatus", "pubStatus");
	const char *s;

	*out = ITEM_USABLE;
	if (!v || json_is_null(v))
		return 0;
	s = json_is_string(v) ? json_string_value(v) : "";
	if (!strcasecmp(s, "usable"))
		*out = ITEM_USABLE;
	else if (!strcasecmp(s, "withheld"))
		*out = ITEM_WITHHELD;
	else if (!strcasecmp(s, "canceled") || !strcasecmp(s, "cancelled"))
		*out = ITEM_CANCELED;
	else
		return fail(err, ITEM_ERR_STATUS,
		            "%s must be usable, withheld or canceled",
		            name_of(in, "status", "pubstatus", "pubStatus"));
	return 0;
}

/* A version is a whole number >= 1, as a JSON integer or digit string. */
static int
read_version(json_t *v, long *out, struct item_error *err)
{
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= VERSION_MAX) {
		*out = (long)json_integer_value(v);
		return 1;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = strlen(s);

		if (len && len <= 9 && strspn(s, "0123456789") == len &&
		    atol(s) >= 1) {
			*out = atol(s);
			return 1;
		}
	}
	return fail(err, ITEM_ERR_FIELD,
	            "version must be a whole number from 1 to %ld",
	            VERSION_MAX);
}

/* The headline: ours, else ninjs headlines[] (role "main" first). */
static json_t *
find_headline(json_t *in, const char **field)
{
	json_t *v = json_object_get(in, "headline"), *list, *h, *first = NULL;
	size_t i;

	*field = "headline";
	if (v)
		return v;
	list = json_object_get(in, "headlines");
	if (!json_is_array(list))
		return NULL;
	*field = "headlines[].value";
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

/* Copy related[] as [{headline, url?, premium?}], checking each entry. */
static int
copy_related(json_t *out, json_t *v, struct item_error *err)
{
	json_t *list, *r;
	size_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > RELATED_MAX)
		return fail(err, ITEM_ERR_FIELD,
		            "related must be an array of at most %d items",
		            RELATED_MAX);
	list = json_array();
	json_array_foreach(v, i, r)
	{
		json_t *h = json_object_get(r, "headline");
		json_t *u = json_object_get(r, "url");
		json_t *p = json_object_get(r, "premium");
		json_t *o;

		if (!json_is_object(r) || !json_is_string(h) ||
		    check_headline(json_string_value(h), json_string_length(h),
		                   "related headline", err))
			goto bad;
		if (u && !json_is_null(u) &&
		    (!json_is_string(u) ||
		     !url_is_safe(json_string_value(u),
		                  json_string_length(u)))) {
			fail(err, ITEM_ERR_URL,
			     "related url must be an http or https URL");
			goto bad;
		}
		if (p && !json_is_null(p) && !json_is_boolean(p)) {
			fail(err, ITEM_ERR_FIELD,
			     "related premium must be true or false");
			goto bad;
		}
		o = json_object();
		json_object_set(o, "headline", h);
		if (json_is_string(u))
			json_object_set(o, "url", u);
		if (json_is_boolean(p))
			json_object_set(o, "premium", p);
		json_array_append_new(list, o);
	}
	json_object_set_new(out, "related", list);
	return 0;
bad:
	json_decref(list);
	return fail(err, ITEM_ERR_HEADLINE, "related[%zu] needs a headline", i);
}

/* Start the normalised object with the keys every item has, in order. */
static json_t *
start_item(const char *id, const char *topic)
{
	json_t *out = json_object();

	json_object_set_new(out, "id", json_string(id));
	json_object_set_new(out, "seq", json_null());
	json_object_set_new(out, "topic", json_string(topic));
	return out;
}

/* Normalise a JSON object payload into it->json. */
static int
parse_object(json_t *in, const char *topic, const char *payload, size_t len,
             time_t now, struct item *it, struct item_error *err)
{
	const char *hl_field, *priority;
	char derived[19];
	json_t *id = json_object_get(in, "id"), *hl, *out;
	time_t t = now, embargo = 0, expires = 0;
	int has_expires;

	if (!id)
		id = json_object_get(in, "uri");
	if (id &&
	    (!json_is_string(id) || !json_string_length(id) ||
	     json_string_length(id) > ID_MAX_LEN ||
	     has_control_chars(json_string_value(id), json_string_length(id))))
		return fail(err, ITEM_ERR_FIELD,
		            "%s must be 1-%d bytes of text",
		            name_of(in, "id", "uri", NULL), ID_MAX_LEN);
	if (read_status(in, &it->status, err))
		return -1;

	if (it->status != ITEM_USABLE) {
		/* A kill or withhold names what to remove; nothing else. */
		if (!id)
			return fail(err, ITEM_ERR_FIELD,
			            "a withheld or canceled item needs its id");
		it->json = start_item(json_string_value(id), topic);
		json_object_set_new(it->json, "status",
		                    json_string(it->status == ITEM_WITHHELD
		                                    ? "withheld"
		                                    : "canceled"));
		return 0;
	}

	hl = find_headline(in, &hl_field);
	if (!hl)
		return fail(err, ITEM_ERR_HEADLINE, "no headline");
	if (!json_is_string(hl))
		return fail(err, ITEM_ERR_HEADLINE, "%s must be a string",
		            hl_field);
	if (check_headline(json_string_value(hl), json_string_length(hl),
	                   hl_field, err))
		return -1;
	if (read_time(first_of(in, "time", "versioncreated", "versionCreated"),
	              name_of(in, "time", "versioncreated", "versionCreated"),
	              &t, err) < 0 ||
	    read_time(first_of(in, "embargo", "embargoed", "embargoedUntil"),
	              "embargo", &embargo, err) < 0 ||
	    (has_expires = read_time(json_object_get(in, "expires"), "expires",
	                             &expires, err)) < 0)
		return -1;
	if (embargo > now) {
		char when[ISOTIME_LEN];

		isotime_format(embargo, when);
		return fail(err, ITEM_ERR_EMBARGO,
		            "embargoed until %s: tickerd does not hold "
		            "embargoed items yet",
		            when);
	}
	if (read_priority(in, &priority, err))
		return -1;
	it->version = 1;
	it->version_given =
	    read_version(json_object_get(in, "version"), &it->version, err);
	if (it->version_given < 0)
		return -1;

	if (!id)
		derive_id(payload, len, derived);
	it->id_derived = !id;
	out = start_item(id ? json_string_value(id) : derived, topic);
	it->json = out;
	json_object_set(out, "headline", hl);
	set_time(out, "time", t);
	json_object_set_new(out, "priority", json_string(priority));

	json_t *url = json_object_get(in, "url");
	if (url && !json_is_null(url) &&
	    (!json_is_string(url) ||
	     !url_is_safe(json_string_value(url), json_string_length(url))))
		return fail(err, ITEM_ERR_URL,
		            "url must be an http or https URL");
	json_t *premium = json_object_get(in, "premium");
	if (premium && !json_is_null(premium) && !json_is_boolean(premium))
		return fail(err, ITEM_ERR_FIELD,
		            "premium must be true or false");

	if (copy_string(out, "label", json_object_get(in, "label"), "label",
	                LABEL_MAX_LEN, NULL, err))
		return -1;
	if (json_is_string(url))
		json_object_set(out, "url", url);
	if (copy_string(
	        out, "source",
	        first_of(in, "source", "copyrightholder", "copyrightHolder"),
	        name_of(in, "source", "copyrightholder", "copyrightHolder"),
	        SOURCE_MAX_LEN, NULL, err) ||
	    copy_string(out, "lang", first_of(in, "lang", "language", NULL),
	                name_of(in, "lang", "language", NULL), LANG_MAX_LEN,
	                lang_is_valid, err))
		return -1;
	if (json_is_boolean(premium))
		json_object_set(out, "premium", premium);
	if (copy_related(out, json_object_get(in, "related"), err))
		return -1;
	if (has_expires)
		set_time(out, "expires", expires);
	json_object_set_new(out, "version", json_integer(it->version));
	return 0;
}

/* A plain-text payload: the trimmed text is the headline. */
static int
parse_text(const char *topic, const char *p, size_t len, time_t now,
           struct item *it, struct item_error *err)
{
	char derived[19];
	json_t *text;

	while (len && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len && isspace((unsigned char)p[len - 1]))
		len--;

	text = json_stringn(p, len); /* NULL when not valid UTF-8 */
	if (!text)
		return fail(err, ITEM_ERR_UTF8, "payload is not valid UTF-8");
	if (check_headline(p, len, "headline", err)) {
		json_decref(text);
		return -1;
	}
	derive_id(p, len, derived);
	it->id_derived = 1;
	it->version = 1;
	it->json = start_item(derived, topic);
	json_object_set_new(it->json, "headline", text);
	set_time(it->json, "time", now);
	json_object_set_new(it->json, "priority", json_string("routine"));
	json_object_set_new(it->json, "version", json_integer(1));
	return 0;
}

int
item_parse(const char *topic, const char *payload, size_t len, time_t now,
           struct item *it, struct item_error *err)
{
	json_error_t jerr;
	size_t lead = 0;
	json_t *in;
	int rc;

	memset(it, 0, sizeof(*it));
	memset(err, 0, sizeof(*err));

	if (!topic_is_valid(topic, strlen(topic)))
		return fail(err, ITEM_ERR_TOPIC,
		            "topic must be 1-%d of A-Z a-z 0-9 _ . -",
		            TOPIC_MAX_LEN);
	if (len > ITEM_MAX_PAYLOAD)
		return fail(err, ITEM_ERR_TOO_LARGE,
		            "payload is %zu bytes, more than %d", len,
		            ITEM_MAX_PAYLOAD);
	while (lead < len && isspace((unsigned char)payload[lead]))
		lead++;

	if (lead == len || payload[lead] != '{')
		rc = parse_text(topic, payload, len, now, it, err);
	else {
		in = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
		if (!in) {
			enum item_reason r =
			    json_error_code(&jerr) == json_error_invalid_utf8
			        ? ITEM_ERR_UTF8
			        : ITEM_ERR_JSON;
			return fail(err, r, "JSON: %s at byte %d", jerr.text,
			            jerr.position);
		}
		rc = parse_object(in, topic, payload, len, now, it, err);
		json_decref(in);
	}
	if (rc) {
		item_free(it);
		return -1;
	}
	it->id = json_string_value(json_object_get(it->json, "id"));
	it->topic = json_string_value(json_object_get(it->json, "topic"));
	return 0;
}

void
item_set_seq(struct item *it, const char *seq)
{
	json_object_set_new(it->json, "seq", json_string(seq));
}

void
item_set_version(struct item *it, long version)
{
	it->version = version;
	json_object_set_new(it->json, "version", json_integer(version));
}

void
item_free(struct item *it)
{
	json_decref(it->json);
	memset(it, 0, sizeof(*it));
}
