/* fuzz_api.c: a POST to the publish API as a client sends it, head and
 * body: request_parse(), body_judge() (door_body.c), then what api.c reads
 * from it before anything is recorded: api_wants_body(), the Authorization
 * and Idempotency-Key headers (api_header(), api_bearer(),
 * api_idempotency_ok()), the key matched (pubkey_find()), the topic
 * (api_topic(): path, ?topic=, the payload's own) and the payload through
 * item_parse() with the field a refusal names. */
#include "fuzz.h"

#include "api.h"
#include "body.h"
#include "item.h"
#include "pubkeys.h"
#include "request.h"
#include "topics.h"

/* The item fields a refusal may name (the wire keys, and embargo). */
static int
known_field(const char *f)
{
	static const char *const known[] = {
	    "",        "id",       "topic",   "status", "headline", "time",
	    "embargo", "priority", "label",   "url",    "source",   "lang",
	    "premium", "related",  "expires", "version"};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(f, known[i]))
			return 1;
	return 0;
}

/* 1 if s lies within buf[0..len). */
static int
inside(struct req_str s, const char *buf, size_t len)
{
	return !s.p || (s.p >= buf && s.p + s.len <= buf + len);
}

static void
fuzz_api(const char *buf, size_t len)
{
	static struct cfg_pubkeys keys;
	static int keyed;
	struct request r;
	struct req_str auth, idem;
	const char *key, *why = NULL;
	size_t key_len, body_len;
	char topic[TOPIC_MAX_LEN + 1];
	struct item_error err;
	struct item it;
	int n;

	if (!keyed) {
		/* sha256("desk-key"); the seeds send it. */
		static const char k[] =
		    "desk=sha256:fd501e4e4eabb3b62f313e4d32304"
		    "8dfbddebb4d702c7b63512125b3fa21dd28:world";
		char why2[200];

		CHECK(
		    !pubkey_parse(&keys, k, sizeof(k) - 1, why2, sizeof(why2)));
		keyed = 1;
	}
	if (request_parse(&r, buf, len) != REQ_OK)
		return;
	(void)api_wants_body(&r);
	if (r.method != REQ_POST)
		return;
	if (body_judge(&r, ITEM_MAX_PAYLOAD, &body_len) != BODY_OK)
		return;
	CHECK(body_len <= ITEM_MAX_PAYLOAD);
	/* What arrived of the body, at most its length. */
	r.body.p = buf + r.head_len;
	r.body.len = len - r.head_len < body_len ? len - r.head_len : body_len;

	n = api_header(&r, "authorization", &auth);
	CHECK(n >= -1 && n <= 1 && inside(auth, buf, r.head_len));
	if (n == 1 && !api_bearer(auth.p, auth.len, &key, &key_len)) {
		CHECK(key >= auth.p && key + key_len == auth.p + auth.len);
		CHECK(key_len > 0);
		for (size_t i = 0; i < key_len; i++)
			CHECK((unsigned char)key[i] > ' ');
		(void)pubkey_find(&keys, key, key_len);
	}
	n = api_header(&r, "idempotency-key", &idem);
	CHECK(inside(idem, buf, r.head_len));
	if (n == 1 && api_idempotency_ok(idem.p, idem.len))
		CHECK(idem.len >= 1 && idem.len <= 128);

	if (api_topic(&r, topic, sizeof(topic), &why)) {
		CHECK(why && *why);
		return;
	}
	CHECK(topic_is_valid(topic, strlen(topic)));
	if (item_parse(topic, r.body.p, r.body.len, 1750750200, &it, &err)) {
		CHECK(err.reason > ITEM_OK && err.reason < ITEM_REASON_COUNT);
		CHECK(memchr(err.field, '\0', sizeof(err.field)));
		CHECK(known_field(err.field));
		return;
	}
	CHECK(it.topic && !strcmp(it.topic, topic));
	item_free(&it);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);

	CHECK(buf);
	memcpy(buf, data, size);
	fuzz_api(buf, size);
	free(buf);
	return 0;
}
