/* item.c: one published payload -> one item: its kind, then its fields. */
#include "item.h"

#include "item_fields.h"
#include "topics.h"
#include "utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const reason_names[ITEM_REASON_COUNT] = {
    [ITEM_OK] = "ok",
    [ITEM_ERR_TOO_LARGE] = "payload_too_large",
    [ITEM_ERR_UTF8] = "invalid_utf8",
    [ITEM_ERR_JSON] = "bad_json",
    [ITEM_ERR_NOT_OBJECT] = "not_an_object",
    [ITEM_ERR_HEADLINE] = "bad_headline",
    [ITEM_ERR_FIELD] = "bad_field",
    [ITEM_ERR_URL] = "bad_url",
    [ITEM_ERR_TIME] = "bad_time",
    [ITEM_ERR_PRIORITY] = "bad_priority",
    [ITEM_ERR_STATUS] = "bad_status",
    [ITEM_ERR_TOPIC] = "bad_topic",
    [ITEM_ERR_EMBARGO] = "embargoed",
    [ITEM_ERR_EXPIRED] = "expired",
    [ITEM_ERR_NOMEM] = "out_of_memory",
};

const char *
item_reason_name(enum item_reason reason)
{
	if (reason < 0 || reason >= ITEM_REASON_COUNT)
		return "unknown";
	return reason_names[reason];
}

int
item_fail(struct item_error *err, enum item_reason reason, const char *fmt, ...)
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

/*
 * Record why json_loadb() refused a payload.  jansson leaves the text
 * empty when an allocation failed (and reports a failed string buffer as
 * an invalid token, which stays bad_json).  Always returns -1.
 */
static int
json_failed(const json_error_t *jerr, struct item_error *err)
{
	enum json_error_code code = json_error_code(jerr);

	if (!jerr->text[0] || code == json_error_out_of_memory)
		return item_fail(err, ITEM_ERR_NOMEM,
		                 "out of memory reading JSON");
	return item_fail(err,
	                 code == json_error_invalid_utf8 ? ITEM_ERR_UTF8
	                                                 : ITEM_ERR_JSON,
	                 "JSON: %s at byte %d", jerr->text, jerr->position);
}

/*
 * A JSON object payload: parsed (duplicate keys refused), then read into
 * it by the field table; a missing id is derived from the whole payload.
 * 0, or -1 with err filled (it->json, if made, is the caller's to free).
 */
static int
parse_object(const char *topic, const char *payload, size_t len, time_t now,
             struct item *it, struct item_error *err)
{
	struct item_build b = {.topic = topic,
	                       .hashed = payload,
	                       .hashed_len = len,
	                       .now = now,
	                       .it = it,
	                       .err = err};
	json_error_t jerr;
	int rc;

	b.in = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!b.in)
		return json_failed(&jerr, err);
	rc = item_fields_read(&b);
	json_decref(b.in);
	return rc;
}

/*
 * A plain-text payload: p[0..len), already trimmed of ASCII blanks, is the
 * headline, read by the same field table as {"headline": text}; its id is
 * derived from it.  0, or -1 with err filled.
 */
static int
parse_text(const char *topic, const char *p, size_t len, time_t now,
           struct item *it, struct item_error *err)
{
	struct item_build b = {
	    .topic = topic, .now = now, .it = it, .err = err};
	json_t *text;
	int rc;

	b.hashed = p;
	b.hashed_len = len;

	text = json_stringn(p, len); /* NULL when not valid UTF-8 */
	if (!text && utf8_feed(UTF8_START, (const unsigned char *)p, len))
		return item_fail(err, ITEM_ERR_UTF8,
		                 "payload is not valid UTF-8");
	if (!text)
		return item_fail(err, ITEM_ERR_NOMEM, "out of memory");
	b.in = json_object();
	if (!b.in)
		json_decref(text);
	if (!b.in || json_object_set_new(b.in, "headline", text)) {
		json_decref(b.in); /* and text, which it took */
		return item_fail(err, ITEM_ERR_NOMEM, "out of memory");
	}
	rc = item_fields_read(&b);
	json_decref(b.in);
	return rc;
}

/*
 * -1 (err filled) if p[0..len), not blank and not starting with '{', is
 * nonetheless a whole JSON value: an array, a number, true, false or null
 * is a publisher's mistake, not a headline.  0 otherwise: plain text.  A
 * JSON string is not looked at: "Quoted words" is a headline, quotes kept.
 */
static int
refuse_other_json(const char *p, size_t len, struct item_error *err)
{
	json_error_t jerr;
	const char *kind;
	json_t *v;

	if (!len || !*p || !strchr("[-0123456789tfn", *p))
		return 0;
	v = json_loadb(
	    p, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
	    &jerr);
	if (!v && jerr.text[0] &&
	    json_error_code(&jerr) != json_error_out_of_memory)
		return 0; /* not JSON: plain text */
	if (!v)
		return json_failed(&jerr, err);
	kind = json_is_array(v)    ? "a JSON array"
	       : json_is_number(v) ? "a JSON number"
	       : json_is_null(v)   ? "JSON null"
	       : json_is_true(v)   ? "JSON true"
	                           : "JSON false";
	json_decref(v);
	return item_fail(err, ITEM_ERR_NOT_OBJECT,
	                 "payload is %s, not an object", kind);
}

int
item_parse(const char *topic, const char *payload, size_t len, time_t now,
           struct item *it, struct item_error *err)
{
	size_t lead = 0, end = len;
	int rc;

	memset(it, 0, sizeof(*it));
	memset(err, 0, sizeof(*err));

	if (!topic_is_valid(topic, strlen(topic))) {
		snprintf(err->field, sizeof(err->field), "topic");
		return item_fail(err, ITEM_ERR_TOPIC,
		                 "topic must be 1-%d of A-Z a-z 0-9 _ . -",
		                 TOPIC_MAX_LEN);
	}
	if (len > ITEM_MAX_PAYLOAD)
		return item_fail(err, ITEM_ERR_TOO_LARGE,
		                 "payload is %zu bytes, more than %d", len,
		                 ITEM_MAX_PAYLOAD);
	while (lead < len && isspace((unsigned char)payload[lead]))
		lead++;
	while (end > lead && isspace((unsigned char)payload[end - 1]))
		end--;

	if (lead < len && payload[lead] == '{')
		rc = parse_object(topic, payload, len, now, it, err);
	else if (refuse_other_json(payload + lead, end - lead, err))
		rc = -1;
	else
		rc =
		    parse_text(topic, payload + lead, end - lead, now, it, err);
	if (rc) {
		/* A plain-text payload is its headline. */
		if (!err->field[0] && err->reason == ITEM_ERR_HEADLINE)
			snprintf(err->field, sizeof(err->field), "headline");
		item_free(it);
		return -1;
	}
	it->id = json_string_value(json_object_get(it->json, "id"));
	it->topic = json_string_value(json_object_get(it->json, "topic"));
	return 0;
}

int
item_set_seq(struct item *it, const char *seq)
{
	return json_object_set_new(it->json, "seq", json_string(seq));
}

int
item_set_version(struct item *it, long version)
{
	if (json_object_set_new(it->json, "version", json_integer(version)))
		return -1;
	it->version = version;
	return 0;
}

void
item_free(struct item *it)
{
	json_decref(it->json);
	memset(it, 0, sizeof(*it));
}
