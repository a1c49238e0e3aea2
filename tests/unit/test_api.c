/* test_api.c: the publish API's pieces that need no server: publisher keys
 * (pubkeys.c: read, matched by SHA-256, topics), the settings that carry
 * them, a POST's body length (door_body.c's body_judge()), the Bearer
 * header and Idempotency-Key checks (api.c). */
#include "unit.h"

#include "api.h"
#include "body.h"
#include "config.h"
#include "pubkeys.h"
#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* sha256("desk-key"), as `printf %s desk-key | sha256sum` prints it. */
static char desk_hex[65];

static void
hex_of(const char *key, char out[65])
{
	unsigned char h[32];

	assert_int_equal(pubkey_sha256(key, strlen(key), h), 0);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The digest is SHA-256 itself: a known answer. */
static void
test_sha256_known(void **state)
{
	char hex[65];

	(void)state;
	hex_of("abc", hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396"
	                         "177a9cb410ff61f20015ad");
}

/* Keys as written: accepted, refused with a reason that names no key. */
static void
test_pubkey_parse(void **state)
{
	char ok1[200], ok2[200], why[200];
	const char *bad[] = {
	    "desk",                             /* no = */
	    "=sha256:00",                       /* no name */
	    "de sk=sha256:",                    /* a blank in the name */
	    "desk=md5:0123",                    /* another hash */
	    "desk=sha256:0123",                 /* too short */
	    "desk=sha256:zz",                   /* not hex */
	    "desk=plain-secret-key-of-64-bytes" /* the key itself */
	};
	struct cfg_pubkeys keys;

	(void)state;
	hex_of("desk-key", desk_hex);
	memset(&keys, 0, sizeof(keys));
	snprintf(ok1, sizeof(ok1), "desk=sha256:%s", desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, ok1, strlen(ok1), why, sizeof(why)), 0);
	snprintf(ok2, sizeof(ok2), "markets=sha256:%s:markets,fx.eur",
	         desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, ok2, strlen(ok2), why, sizeof(why)), 0);
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.at[1].name, "markets");
	assert_int_equal(keys.at[1].n_topics, 2);
	assert_string_equal(keys.at[1].topics[1], "fx.eur");
	/* A name given again replaces its key. */
	assert_int_equal(
	    pubkey_parse(&keys, ok1, strlen(ok1), why, sizeof(why)), 0);
	assert_int_equal(keys.n, 2);
	for (size_t i = 0; i < N_OF(bad); i++) {
		why[0] = '\0';
		if (!pubkey_parse(&keys, bad[i], strlen(bad[i]), why,
		                  sizeof(why)))
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(why[0]);
		/* The sentence never repeats what follows the name. */
		assert_null(strstr(why, "plain-secret"));
	}
	/* Trailing garbage, a bad topic, an empty topic list. */
	snprintf(ok2, sizeof(ok2), "x=sha256:%sq", desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, ok2, strlen(ok2), why, sizeof(why)), -1);
	snprintf(ok2, sizeof(ok2), "x=sha256:%s:a,b c", desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, ok2, strlen(ok2), why, sizeof(why)), -1);
	snprintf(ok2, sizeof(ok2), "x=sha256:%s:", desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, ok2, strlen(ok2), why, sizeof(why)), -1);
	assert_int_equal(keys.n, 2);
}

/* A Bearer key finds its entry by hash; anything else finds none. */
static void
test_pubkey_find(void **state)
{
	char line[200], why[200], other[65];
	struct cfg_pubkeys keys;
	const struct cfg_pubkey *k;

	(void)state;
	hex_of("desk-key", desk_hex);
	hex_of("wire-key", other);
	memset(&keys, 0, sizeof(keys));
	snprintf(line, sizeof(line), "desk=sha256:%s", desk_hex);
	assert_int_equal(
	    pubkey_parse(&keys, line, strlen(line), why, sizeof(why)), 0);
	/* Upper-case hex is the same hash. */
	for (char *p = other; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	snprintf(line, sizeof(line), "wire=sha256:%s:wire", other);
	assert_int_equal(
	    pubkey_parse(&keys, line, strlen(line), why, sizeof(why)), 0);

	k = pubkey_find(&keys, S("desk-key"));
	assert_non_null(k);
	assert_string_equal(k->name, "desk");
	assert_true(pubkey_allows(k, "anything"));
	k = pubkey_find(&keys, S("wire-key"));
	assert_non_null(k);
	assert_string_equal(k->name, "wire");
	assert_true(pubkey_allows(k, "wire"));
	assert_false(pubkey_allows(k, "wires"));
	assert_false(pubkey_allows(k, "breaking"));
	assert_null(pubkey_find(&keys, S("desk-key ")));
	assert_null(pubkey_find(&keys, S("desk-ke")));
	assert_null(pubkey_find(&keys, S("")));
	/* The hash typed as the key is not the key. */
	assert_null(pubkey_find(&keys, desk_hex, strlen(desk_hex)));
}

/* --publisher-key and --publish-rate through the settings. */
static void
test_settings(void **state)
{
	char key1[200], key2[200];
	char *argv[] = {
	    "tickerd", "--publisher-key", key1,    "--publisher-key",
	    key2,      "--publish-rate",  "600/m", NULL};
	struct cfg_error err;
	struct cfg *c = calloc(1, sizeof(*c));
	char *bad[] = {"tickerd", "--publish-rate", "20", NULL};

	(void)state;
	assert_non_null(c);
	hex_of("desk-key", desk_hex);
	snprintf(key1, sizeof(key1), "desk=sha256:%s", desk_hex);
	/* Two keys in one value, separated by a blank. */
	snprintf(key2, sizeof(key2), "a=sha256:%s:x b=sha256:%s:y,z", desk_hex,
	         desk_hex);
	unsetenv("TICKERD_PUBLISHER_KEY");
	unsetenv("TICKERD_PUBLISH_RATE");
	assert_int_equal(cfg_parse(c, 7, argv, &err), CFG_RUN);
	assert_int_equal(c->publishers.n, 3);
	assert_string_equal(c->publishers.at[2].name, "b");
	assert_int_equal(c->publishers.at[2].n_topics, 2);
	assert_int_equal(c->publish_rate.n, 600);
	assert_int_equal(c->publish_rate.per_ms, 60000);
	assert_int_equal(cfg_parse(c, 3, bad, &err), CFG_ERROR);
	free(c);
}

/* A POST's body: its length, or why it is not read. */
static void
test_body_judge(void **state)
{
	static const struct {
		const char *head;
		enum body_verdict want;
		size_t len;
	} cases[] = {
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
	     BODY_OK, 5},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	     BODY_OK, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: "
	     "0000000000000000000000000000100\r\n\r\n",
	     BODY_OK, 100},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: "
	     "1000\r\n\r\n",
	     BODY_OK, 1000},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: "
	     "1001\r\n\r\n",
	     BODY_TOO_LARGE, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: "
	     "99999999999999999999999999999\r\n\r\n",
	     BODY_TOO_LARGE, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\n\r\n", BODY_NO_LENGTH, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
	     "chunked\r\n\r\n",
	     BODY_NO_LENGTH, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	     BODY_NO_LENGTH, 0},
	    {"POST /api/items HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	     "Content-Length: 3\r\n\r\n",
	     BODY_BAD, 0},
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct request r;
		size_t len = 99;
		char *p = exact(cases[i].head, strlen(cases[i].head));

		assert_int_equal(request_parse(&r, p, strlen(cases[i].head)),
		                 REQ_OK);
		assert_int_equal(r.method, REQ_POST);
		CHECK_INT(cases[i].head, body_judge(&r, 1000, &len),
		          cases[i].want);
		CHECK_INT(cases[i].head, len, cases[i].len);
		free(p);
	}
}

/* Which paths the door reads a body for. */
static void
test_wants_body(void **state)
{
	static const struct {
		const char *target;
		int want;
	} cases[] = {
	    {"/api/items", 1},
	    {"/api/items/world", 1},
	    {"/api/items?topic=a", 1},
	    {"/api/itemsx", 0},
	    {"/api", 0},
	    {"/", 0},
	    {"/healthz", 0},
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		char head[200];
		struct request r;
		int n = snprintf(head, sizeof(head),
		                 "POST %s HTTP/1.1\r\nHost: a\r\n\r\n",
		                 cases[i].target);

		assert_int_equal(request_parse(&r, head, (size_t)n), REQ_OK);
		CHECK_INT(cases[i].target, api_wants_body(&r), cases[i].want);
	}
}

/* Authorization: Bearer values, and Idempotency-Key values. */
static void
test_bearer_and_idempotency(void **state)
{
	const char *key;
	size_t len;
	char long_key[130];

	(void)state;
	assert_int_equal(api_bearer(S("Bearer abc"), &key, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(key, "abc", 3);
	assert_int_equal(api_bearer(S("bearer   k.e-y_1"), &key, &len), 0);
	assert_int_equal(len, 7);
	assert_int_equal(api_bearer(S("Basic abc"), &key, &len), -1);
	assert_int_equal(api_bearer(S("Bearer"), &key, &len), -1);
	assert_int_equal(api_bearer(S("Bearer "), &key, &len), -1);
	assert_int_equal(api_bearer(S("Bearerabc"), &key, &len), -1);
	assert_int_equal(api_bearer(S("Bearer a b"), &key, &len), -1);

	assert_true(api_idempotency_ok(S("a")));
	assert_true(api_idempotency_ok(S("order 42/retry:1")));
	assert_false(api_idempotency_ok(S("")));
	assert_false(api_idempotency_ok(S("a\tb")));
	assert_false(api_idempotency_ok(S("caf\xc3\xa9")));
	memset(long_key, 'k', sizeof(long_key));
	assert_true(api_idempotency_ok(long_key, 128));
	assert_false(api_idempotency_ok(long_key, 129));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_known),
	    cmocka_unit_test(test_pubkey_parse),
	    cmocka_unit_test(test_pubkey_find),
	    cmocka_unit_test(test_settings),
	    cmocka_unit_test(test_body_judge),
	    cmocka_unit_test(test_wants_body),
	    cmocka_unit_test(test_bearer_and_idempotency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
