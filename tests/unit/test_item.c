/* test_item.c: item parsing, data-driven from tests/unit/items/<case>/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "isotime.h"
#include "item.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each case folder holds "input" (the payload, byte for byte), optional
 * "topic" (default world), and either "expected" (the normalised item
 * JSON, seq null) or "error" (the rejection reason's name).  Parsing runs
 * with the clock at 2025-06-24T07:30:00Z.
 */
#define CASES_CLOCK "2025-06-24T07:30:00Z"

static char *
read_file(const char *dir, const char *name, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void
test_case(void **state)
{
	const char *dir = *state;
	size_t len;
	char *input = read_file(dir, "input", &len);
	char *topic = read_file(dir, "topic", NULL);
	char *expected = read_file(dir, "expected", NULL);
	char *error = read_file(dir, "error", NULL);
	struct item_error err;
	struct item it;
	time_t now;
	int rc;

	assert_non_null(input);
	assert_true(expected || error);
	assert_int_equal(isotime_parse(CASES_CLOCK, &now), 0);
	rc = item_parse(topic ? topic : "world", input, len, now, &it, &err);

	if (error) {
		chomp(error);
		if (rc == 0)
			fail_msg("%s: accepted, expected %s", dir, error);
		assert_string_equal(item_reason_name(err.reason), error);
		assert_true(strlen(err.text) > 0);
		assert_null(it.json);
	} else {
		json_error_t jerr;
		json_t *want = json_loads(expected, 0, &jerr);

		if (rc)
			fail_msg("%s: rejected: %s: %s", dir,
			         item_reason_name(err.reason), err.text);
		assert_non_null(want);
		if (!json_equal(want, it.json)) {
			char *got = json_dumps(it.json, JSON_COMPACT);

			fail_msg("%s:\n got  %s\n want %s", dir, got, expected);
		}
		/* Keys go out in wire order, text byte for byte. */
		char *got = json_dumps(it.json, JSON_COMPACT);
		char *norm = json_dumps(want, JSON_COMPACT);
		assert_string_equal(got, norm);
		free(got);
		free(norm);
		json_decref(want);
		item_free(&it);
	}
	free(input);
	free(topic);
	free(expected);
	free(error);
}

/* Larger than the limit: made here rather than kept as a 300 KB file. */
static void
test_payload_too_large(void **state)
{
	size_t len = ITEM_MAX_PAYLOAD + 1;
	char *p = malloc(len);
	struct item_error err;
	struct item it;

	(void)state;
	memset(p, 'a', len);
	assert_int_equal(item_parse("world", p, len, 0, &it, &err), -1);
	assert_string_equal(item_reason_name(err.reason), "payload_too_large");
	memset(p, 'a', ITEM_MAX_HEADLINE + 1);
	assert_int_equal(
	    item_parse("world", p, ITEM_MAX_HEADLINE + 1, 0, &it, &err), -1);
	assert_string_equal(item_reason_name(err.reason), "bad_headline");
	assert_int_equal(
	    item_parse("world", p, ITEM_MAX_HEADLINE, 0, &it, &err), 0);
	item_free(&it);
	free(p);
}

/* The same payload twice is the same id; another payload is not. */
static void
test_derived_ids_are_stable(void **state)
{
	struct item a, b, c;
	struct item_error err;

	(void)state;
	assert_int_equal(item_parse("w", "Same", 4, 1, &a, &err), 0);
	assert_int_equal(item_parse("w", "Same\n", 5, 99, &b, &err), 0);
	assert_int_equal(item_parse("w", "Other", 5, 1, &c, &err), 0);
	assert_true(a.id_derived);
	assert_string_equal(a.id, b.id);
	assert_string_not_equal(a.id, c.id);
	item_free(&a);
	item_free(&b);
	item_free(&c);
}

static void
test_seq_and_version_setters(void **state)
{
	struct item it;
	struct item_error err;
	const char *p = "{\"id\":\"x\",\"headline\":\"h\"}";

	(void)state;
	assert_int_equal(item_parse("w", p, strlen(p), 0, &it, &err), 0);
	assert_false(it.version_given);
	item_set_seq(&it, "1750750200000-42");
	item_set_version(&it, 7);
	char *s = json_dumps(it.json, JSON_COMPACT);
	assert_string_equal(
	    s, "{\"id\":\"x\",\"seq\":\"1750750200000-42\",\"topic\":\"w\","
	       "\"headline\":\"h\",\"time\":\"1970-01-01T00:00:"
	       "00Z\",\"priority\":\"routine\",\"version\":7}");
	free(s);
	item_free(&it);
}

/* Write code point c as UTF-8 at out; returns the byte count. */
static size_t
utf8_put(char *out, unsigned c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/*
 * Each white-space or invisible character, alone (twice, as plain text and
 * as a JSON headline), is a blank headline; with one letter beside it the
 * headline is visible and kept byte for byte.
 */
static void
test_invisible_characters_are_blank(void **state)
{
	static const unsigned blank[] = {
	    0x00a0, 0x3000, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
	    0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
	    0x202f, 0x205f, 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad,
	    0x200e, 0x200f, 0x2066, 0x2069, 0x180e, 0x3164, 0xfe0f, 0xe0020};
	char text[32], json[64];
	struct item_error err;
	struct item it;

	(void)state;
	for (size_t i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
		size_t n = utf8_put(text, blank[i]);

		n += utf8_put(text + n, blank[i]);
		text[n] = '\0';
		snprintf(json, sizeof(json), "{\"headline\":\"%s\"}", text);
		if (!item_parse("w", text, n, 0, &it, &err))
			fail_msg("U+%04X as text: accepted", blank[i]);
		assert_string_equal(item_reason_name(err.reason),
		                    "bad_headline");
		if (!item_parse("w", json, strlen(json), 0, &it, &err))
			fail_msg("U+%04X in JSON: accepted", blank[i]);
		assert_string_equal(item_reason_name(err.reason),
		                    "bad_headline");

		n = utf8_put(text, blank[i]);
		text[n++] = 'x';
		n += utf8_put(text + n, blank[i]);
		text[n] = '\0';
		if (item_parse("w", text, n, 0, &it, &err))
			fail_msg("U+%04X around x: rejected: %s", blank[i],
			         err.text);
		assert_string_equal(
		    json_string_value(json_object_get(it.json, "headline")),
		    text);
		item_free(&it);
	}
}

/*
 * jansson's allocator for test_allocation_failures: allocation fail_at
 * fails, and every later one too while fail_on (memory running out).
 */
static long allocs, fail_at = -1;
static int fail_on;

static void *
failing_malloc(size_t n)
{
	long k = allocs++;

	if (fail_at >= 0 && (k == fail_at || (fail_on && k > fail_at)))
		return NULL;
	return malloc(n);
}

/*
 * Make each allocation jansson makes for an item fail in turn: the payload
 * is refused as out_of_memory, nothing half-built is kept and nothing
 * leaks, until none fails and the item is the usual one.  While jansson
 * parses, memory runs out for good from the failed allocation on (its
 * lexer drops bytes when a single one fails, and reports a string it
 * could not allocate as an invalid token: bad_json).  The setters leave
 * the item as it was when theirs fails.
 */
static void
test_allocation_failures(void **state)
{
	static const char *const payloads[] = {
	    "{\"id\":\"m\",\"headline\":\"H\",\"priority\":\"flash\","
	    "\"label\":\"L\",\"url\":\"https://e.org/\",\"source\":\"S\","
	    "\"lang\":\"fr\",\"premium\":true,\"related\":[{\"headline\":"
	    "\"R\",\"url\":\"https://e.org/r\",\"premium\":false}],"
	    "\"expires\":\"2030-01-01T00:00:00Z\",\"version\":\"2\"}",
	    "{\"uri\":\"urn:x\",\"headlines\":[{\"role\":\"main\","
	    "\"value\":\"N\"}],\"versionCreated\":\"2019-08-09T09:46:53Z\"}",
	    "{\"id\":\"k\",\"status\":\"canceled\"}",
	    "Plain text headline",
	    "[1, 2, 3]",
	};
	struct item_error err;
	struct item it, want;

	(void)state;
	json_set_alloc_funcs(failing_malloc, free);
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		const char *p = payloads[i];
		size_t len = strlen(p);
		long parsing;
		int rc, want_rc;

		fail_at = -1;
		allocs = 0;
		json_decref(json_loadb(
		    p, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL));
		parsing = allocs;
		want_rc = item_parse("w", p, len, 0, &want, &err);
		for (fail_at = 0;; fail_at++) {
			allocs = 0;
			fail_on = fail_at < parsing;
			rc = item_parse("w", p, len, 0, &it, &err);
			if (allocs <= fail_at) /* none failed: the usual */
				break;
			if (!rc || (err.reason != ITEM_ERR_NOMEM &&
			            (!fail_on || err.reason != ITEM_ERR_JSON)))
				fail_msg("%s: allocation %ld failed: %s: %s", p,
				         fail_at, item_reason_name(err.reason),
				         err.text);
			assert_null(it.json);
		}
		fail_at = -1;
		assert_int_equal(rc, want_rc);
		if (!want_rc) {
			assert_true(json_equal(it.json, want.json));
			fail_at = allocs = 0;
			assert_int_equal(item_set_seq(&it, "1-1"), -1);
			allocs = 0;
			assert_int_equal(item_set_version(&it, 9), -1);
			fail_at = -1;
			assert_true(json_equal(it.json, want.json));
			assert_int_equal(it.version, want.version);
			item_free(&it);
			item_free(&want);
		}
	}
	json_set_alloc_funcs(malloc, free);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct CMUnitTest *)a)->name,
	              ((const struct CMUnitTest *)b)->name);
}

int
main(void)
{
	const char *data = getenv("TICKERD_TEST_DATA");
	char root[1024];
	struct CMUnitTest tests[256];
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	snprintf(root, sizeof(root), "%s/items", data ? data : "tests/unit");
	d = opendir(root);
	if (!d) {
		fprintf(stderr, "test_item: no case folder %s\n", root);
		return 1;
	}
	while ((de = readdir(d)) && n < 250) {
		char *dir;

		if (de->d_name[0] == '.')
			continue;
		dir = malloc(strlen(root) + strlen(de->d_name) + 2);
		sprintf(dir, "%s/%s", root, de->d_name);
		tests[n++] = (struct CMUnitTest){
		    .name = strdup(de->d_name),
		    .test_func = test_case,
		    .initial_state = dir,
		};
	}
	closedir(d);
	qsort(tests, n, sizeof(tests[0]), by_name);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_payload_too_large);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_derived_ids_are_stable);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_seq_and_version_setters);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(
	    test_invisible_characters_are_blank);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_allocation_failures);
	int failed = _cmocka_run_group_tests("item", tests, n, NULL, NULL);

	for (size_t i = 0; i < n; i++)
		if (tests[i].test_func == test_case) {
			free((char *)tests[i].name);
			free(tests[i].initial_state);
		}
	return failed;
}
