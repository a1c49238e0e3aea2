/* fuzz_item.c: fuzz item_parse() and the item message made from its result. */
#include "fuzz.h"

#include "isotime.h"
#include "item.h"
#include "message.h"
#include "seq.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>
#include <strings.h>

/* The receive time every input is parsed at: 2025-06-24T07:30:00Z. */
#define FUZZ_NOW ((time_t)1750750200)

/*
 * The channel's topic, chosen by the input's first byte (modulo 8, so the
 * digits '0'..'7' pick them in order): four valid, four item_parse() must
 * refuse (empty, a blank, 65 bytes, non-ASCII).
 */
static const char *const topics[8] = {
    "breaking",
    "world",
    "sport.foot-ball_2",
    "T123456789012345678901234567890123456789012345678901234567890123",
    "",
    "bad topic",
    "T1234567890123456789012345678901234567890123456789012345678901234",
    "caf\xc3\xa9",
};

/* 1 if s[0..len) holds a C0 control, DEL or a C1 control (C2 80..9F). */
static int
has_controls(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f ||
		    (c == 0xc2 && i + 1 < len &&
		     (unsigned char)s[i + 1] >= 0x80 &&
		     (unsigned char)s[i + 1] <= 0x9f))
			return 1;
	}
	return 0;
}

/*
 * 1 if v is a string shaped "YYYY-MM-DDTHH:MM:SSZ" that, from 1970 on
 * (isotime_parse() refuses earlier years), reads back to itself.
 */
static int
is_utc_time(json_t *v)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	char again[ISOTIME_LEN];
	const char *s;
	time_t t;

	if (!json_is_string(v) || json_string_length(v) != ISOTIME_LEN - 1)
		return 0;
	s = json_string_value(v);
	for (size_t i = 0; i < ISOTIME_LEN - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
		                    : s[i] != shape[i])
			return 0;
	if (strncmp(s, "1970", 4) < 0)
		return 1;
	if (isotime_parse(s, &t))
		return 0;
	isotime_format(t, again);
	return !strcmp(again, s);
}

/* 1 if v, when present, is a string naming an http or https URL. */
static int
is_web_url(json_t *v)
{
	const char *s;

	if (!v)
		return 1;
	if (!json_is_string(v))
		return 0;
	s = json_string_value(v);
	return !strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8);
}

/*
 * 1 if p[0..len) is whole JSON other than an object or a string (an
 * array, a number, true, false, null): item_parse() must refuse it.
 */
static int
is_other_json(const char *p, size_t len)
{
	json_error_t e;
	json_t *v = json_loadb(
	    p, len, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
	    &e);
	int other = v && !json_is_object(v) && !json_is_string(v);

	json_decref(v);
	return other;
}

/* Check what a usable (not withheld or canceled) item must carry. */
static void
check_usable(const struct item *it, const char *payload, size_t len)
{
	static const char *const priorities[] = {"flash", "bulletin", "urgent",
	                                         "routine"};
	json_t *j = it->json, *hl = json_object_get(j, "headline");
	json_t *pr = json_object_get(j, "priority"), *rel, *r;
	const char *p = payload;
	size_t i, n = len;
	int known = 0;

	CHECK(json_is_string(hl));
	CHECK(json_string_length(hl) >= 1);
	CHECK(json_string_length(hl) <= ITEM_MAX_HEADLINE);
	CHECK(!has_controls(json_string_value(hl), json_string_length(hl)));
	CHECK(is_utc_time(json_object_get(j, "time")));
	CHECK(json_is_string(pr));
	for (i = 0; i < 4; i++)
		known |= !strcmp(json_string_value(pr), priorities[i]);
	CHECK(known);
	CHECK(json_is_integer(json_object_get(j, "version")));
	CHECK(json_integer_value(json_object_get(j, "version")) == it->version);
	CHECK(it->version >= 1 && it->version <= 999999999L);
	CHECK(!json_object_get(j, "expires") ||
	      is_utc_time(json_object_get(j, "expires")));
	CHECK(is_web_url(json_object_get(j, "url")));
	rel = json_object_get(j, "related");
	CHECK(!rel || (json_is_array(rel) && json_array_size(rel) <= 20));
	json_array_foreach(rel, i, r)
	{
		json_t *rh = json_object_get(r, "headline");

		CHECK(json_is_string(rh) && json_string_length(rh) >= 1 &&
		      json_string_length(rh) <= ITEM_MAX_HEADLINE);
		CHECK(is_web_url(json_object_get(r, "url")));
	}

	/* Plain text: the headline is the payload, trimmed, byte for byte. */
	while (n && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	if (n && *p == '{')
		return;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	CHECK(!is_other_json(p, n));
	CHECK(json_string_length(hl) == n);
	CHECK(!memcmp(json_string_value(hl), p, n));
	CHECK(it->id_derived);
}

/* Check the item item_parse() made from payload on topic. */
static void
check_item(const struct item *it, const char *topic, const char *payload,
           size_t len)
{
	json_t *j = it->json, *id = json_object_get(j, "id");
	json_t *status = json_object_get(j, "status");

	CHECK(json_is_object(j));
	CHECK(json_is_string(id));
	CHECK(json_string_length(id) >= 1 && json_string_length(id) <= 256);
	CHECK(it->id && !strcmp(it->id, json_string_value(id)));
	CHECK(it->topic && !strcmp(it->topic, topic));
	CHECK(json_is_string(json_object_get(j, "topic")));
	CHECK(json_is_null(json_object_get(j, "seq")));
	if (it->status == ITEM_USABLE) {
		CHECK(!status);
		check_usable(it, payload, len);
	} else {
		CHECK(it->status == ITEM_WITHHELD ||
		      it->status == ITEM_CANCELED);
		CHECK(json_is_string(status));
		CHECK(!json_object_get(j, "headline"));
	}
}

/* The compact bytes of v, as clients would get them; caller frees. */
static char *
dump(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT);

	CHECK(s);
	return s;
}

/*
 * Encode it as an item message at seq s and check the frame: one line of
 * valid JSON (so one EventSource data: line) carrying the item unchanged,
 * headline byte for byte, and the bare item where item_off/len say.
 */
static void
check_message(const struct item *it, struct seq s)
{
	struct msg *m = msg_new_item(it, s);
	json_t *frame, *inner, *slice;
	json_t *hl = json_object_get(it->json, "headline"), *hl2;
	json_error_t e;
	const char *p;
	size_t sse_len;
	unsigned char *sse;

	CHECK(m);
	CHECK(m->has_seq && !seq_cmp(m->seq, s));
	CHECK(!strcmp(m->type, "item") && !strcmp(m->topic, it->topic));
	p = (const char *)msg_payload(m);
	CHECK(p[m->len] == '\0' && strlen(p) == m->len);
	CHECK(!memchr(p, '\n', m->len) && !memchr(p, '\r', m->len));

	frame = json_loadb(p, m->len, JSON_REJECT_DUPLICATES, &e);
	CHECK(frame);
	CHECK(json_is_string(json_object_get(frame, "type")));
	CHECK(
	    !strcmp(json_string_value(json_object_get(frame, "type")), "item"));
	inner = json_object_get(frame, "item");
	CHECK(json_equal(inner, it->json));
	hl2 = json_object_get(inner, "headline");
	CHECK(!hl == !hl2);
	if (hl) {
		CHECK(json_string_length(hl2) == json_string_length(hl));
		CHECK(!memcmp(json_string_value(hl2), json_string_value(hl),
		              json_string_length(hl)));
	}
	CHECK(m->item_off + m->item_len <= m->len);
	slice = json_loadb(p + m->item_off, m->item_len, JSON_REJECT_DUPLICATES,
	                   &e);
	CHECK(slice && json_equal(slice, it->json));

	sse = msg_sse(m, &sse_len);
	CHECK(sse && sse_len > m->len + 2);
	CHECK(!memcmp(sse, "id: ", 4));
	CHECK(!memcmp(sse + sse_len - m->len - 2, p, m->len));
	CHECK(!memcmp(sse + sse_len - 2, "\n\n", 2));

	json_decref(slice);
	json_decref(frame);
	msg_unref(m);
}

/* A retraction's message: valid JSON naming the id and topic. */
static void
check_retract(const struct item *it, struct seq s)
{
	struct msg *m = msg_new_retract(it->id, it->topic, s);
	json_error_t e;
	json_t *o;

	CHECK(m);
	o = json_loadb((const char *)msg_payload(m), m->len, 0, &e);
	CHECK(o);
	CHECK(!strcmp(json_string_value(json_object_get(o, "id")), it->id));
	CHECK(
	    !strcmp(json_string_value(json_object_get(o, "topic")), it->topic));
	json_decref(o);
	msg_unref(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct item it, again;
	struct item_error err, err2;
	struct seq s = {(uint64_t)FUZZ_NOW * 1000, size};
	char seqbuf[SEQ_STR_LEN], *a, *b;
	const char *topic, *payload = (const char *)data + 1;
	size_t len = size - 1;
	int rc;

	if (!size)
		return 0;
	topic = topics[data[0] % 8];
	rc = item_parse(topic, payload, len, FUZZ_NOW, &it, &err);
	if (rc) {
		CHECK(rc == -1);
		CHECK(err.reason > ITEM_OK && err.reason < ITEM_REASON_COUNT);
		CHECK(strcmp(item_reason_name(err.reason), "unknown"));
		CHECK(memchr(err.text, '\0', sizeof(err.text)) && err.text[0]);
		CHECK(!strpbrk(err.text, "\r\n")); /* one log line */
		CHECK(!it.json);
		return 0;
	}
	CHECK(rc == 0 && err.reason == ITEM_OK);
	check_item(&it, topic, payload, len);

	/* Every instance must normalise an entry to the same bytes. */
	CHECK(!item_parse(topic, payload, len, FUZZ_NOW, &again, &err2));
	a = dump(it.json);
	b = dump(again.json);
	CHECK(!strcmp(a, b));
	free(a);
	free(b);
	item_free(&again);

	seq_format(s, seqbuf);
	CHECK(!item_set_seq(&it, seqbuf));
	CHECK(!strcmp(json_string_value(json_object_get(it.json, "seq")),
	              seqbuf));
	if (it.status == ITEM_USABLE) {
		CHECK(!item_set_version(&it, it.version + 1));
		CHECK(json_integer_value(json_object_get(it.json, "version")) ==
		      it.version);
		check_message(&it, s);
	} else {
		check_retract(&it, s);
	}
	item_free(&it);
	CHECK(!it.json);
	return 0;
}
