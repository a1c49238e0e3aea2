/* test_screens.c: a named screen's report read and checked; its lag in time
 * and whether it is stale (silent or lagging) at the edges. */
#include "unit.h"

#include "screen_judge.h"
#include "screen_report.h"

#include <stdio.h>

static void
test_report_read(void **state)
{
	struct screen_report r;
	static const char ok[] =
	    "{\"type\":\"screen\",\"name\":\"lobby-1.a_b\","
	    "\"seq\":\"1750750200000-3\",\"visible\":false,\"extra\":[1]}";
	static const char nothing[] = "{\"type\":\"screen\",\"name\":\"w\","
	                              "\"seq\":null,\"visible\":true}";

	(void)state;
	CHECK_INT("ok", screen_report_parse(S(ok), &r), SCREEN_OK);
	assert_string_equal(r.name, "lobby-1.a_b");
	CHECK_INT("seq", r.has_seq, 1);
	assert_true(r.seq.ms == 1750750200000ULL && r.seq.n == 3);
	CHECK_INT("visible", r.visible, 0);
	CHECK_INT("null seq", screen_report_parse(S(nothing), &r), SCREEN_OK);
	CHECK_INT("null seq", r.has_seq, 0);
	CHECK_INT("visible", r.visible, 1);
}

static void
test_report_refused(void **state)
{
	static const struct {
		const char *in;
		enum screen_refusal want;
	} cases[] = {
	    {"{", SCREEN_BAD_JSON},
	    {"{}", SCREEN_BAD_JSON},
	    {"{\"type\":\"hello\",\"name\":\"a\",\"seq\":null,\"visible\":"
	     "true}",
	     SCREEN_BAD_JSON},
	    {"{\"type\":\"screen\",\"type\":\"screen\",\"name\":\"a\","
	     "\"seq\":null,\"visible\":true}",
	     SCREEN_BAD_JSON}, /* a key twice */
	    {"{\"type\":\"screen\",\"seq\":null,\"visible\":true}",
	     SCREEN_BAD_NAME},
	    {"{\"type\":\"screen\",\"name\":\"\",\"seq\":null,\"visible\":"
	     "true}",
	     SCREEN_BAD_NAME},
	    {"{\"type\":\"screen\",\"name\":\"a b\",\"seq\":null,"
	     "\"visible\":true}",
	     SCREEN_BAD_NAME},
	    {"{\"type\":\"screen\",\"name\":\"a\\u0000b\",\"seq\":null,"
	     "\"visible\":true}",
	     SCREEN_BAD_JSON}, /* jansson refuses NUL in strings */
	    {"{\"type\":\"screen\",\"name\":7,\"seq\":null,\"visible\":true}",
	     SCREEN_BAD_NAME},
	    {"{\"type\":\"screen\",\"name\":\"a\",\"visible\":true}",
	     SCREEN_BAD_SEQ}, /* absent is not null */
	    {"{\"type\":\"screen\",\"name\":\"a\",\"seq\":\"1-\","
	     "\"visible\":true}",
	     SCREEN_BAD_SEQ},
	    {"{\"type\":\"screen\",\"name\":\"a\",\"seq\":12,\"visible\":true}",
	     SCREEN_BAD_SEQ},
	    {"{\"type\":\"screen\",\"name\":\"a\",\"seq\":null,\"visible\":1}",
	     SCREEN_BAD_VISIBLE},
	    {"{\"type\":\"screen\",\"name\":\"a\",\"seq\":null}",
	     SCREEN_BAD_VISIBLE},
	};
	char name[80], big[SCREEN_REPORT_MAX + 2];
	struct screen_report r;
	int code = 0;

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		char *p = exact(cases[i].in, strlen(cases[i].in));

		CHECK_INT(cases[i].in,
		          screen_report_parse(p, strlen(cases[i].in), &r),
		          cases[i].want);
		free(p);
	}
	/* 64 bytes of name are fine, 65 are not. */
	for (int len = 64; len <= 65; len++) {
		char in[200];

		memset(name, 'n', (size_t)len);
		name[len] = '\0';
		snprintf(in, sizeof(in),
		         "{\"type\":\"screen\",\"name\":\"%s\",\"seq\":null,"
		         "\"visible\":true}",
		         name);
		CHECK_INT(in, screen_report_parse(in, strlen(in), &r),
		          len == 64 ? SCREEN_OK : SCREEN_BAD_NAME);
	}
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	CHECK_INT("too large", screen_report_parse(big, sizeof(big) - 1, &r),
	          SCREEN_TOO_LARGE);
	/* Which refusals close, and with what. */
	assert_non_null(screen_refusal_answer(SCREEN_TOO_LARGE, &code));
	CHECK_INT("too large", code, 1009);
	assert_non_null(screen_refusal_answer(SCREEN_BAD_NAME, &code));
	CHECK_INT("bad name", code, 1008);
	assert_null(screen_refusal_answer(SCREEN_TOO_FREQUENT, &code));
	assert_null(screen_refusal_answer(SCREEN_FULL, &code));
	assert_null(screen_refusal_answer(SCREEN_NAME_TAKEN, &code));
	for (int i = 0; i < SCREEN_REFUSAL_COUNT; i++) {
		const char *a = screen_refusal_answer(i, &code);

		assert_true(!a || strlen(a) <= 64); /* a close frame's reason */
		assert_non_null(screen_refusal_name(i));
	}
}

static void
test_lag_and_staleness(void **state)
{
	const uint64_t now = 1750750200000ULL, stale = 30000;
	struct screen_lag none = {0, 0};
	struct screen_lag behind = {3, now - 30000};
	struct screen_lag older = {3, now - 30001};
	struct screen_lag future = {1, now + 5000}; /* Redis's clock ahead */

	(void)state;
	CHECK_INT("not behind", screen_lag_s(&none, now), 0);
	CHECK_INT("30 s", screen_lag_s(&behind, now), 30);
	CHECK_INT("30.001 s", screen_lag_s(&older, now), 30);
	CHECK_INT("clock ahead", screen_lag_s(&future, now), 0);

	CHECK_INT("just heard", screen_judge(now, &none, now, stale),
	          SCREEN_FRESH);
	CHECK_INT("heard 30 s ago",
	          screen_judge(now - 30000, &none, now, stale), SCREEN_FRESH);
	CHECK_INT("heard 30.001 s ago",
	          screen_judge(now - 30001, &none, now, stale), SCREEN_SILENT);
	CHECK_INT("lag of exactly 30 s", screen_judge(now, &behind, now, stale),
	          SCREEN_FRESH);
	CHECK_INT("lag past 30 s", screen_judge(now, &older, now, stale),
	          SCREEN_LAGGING);
	CHECK_INT("silent wins", screen_judge(now - 40000, &older, now, stale),
	          SCREEN_SILENT);
	CHECK_INT("clock ahead", screen_judge(now, &future, now, stale),
	          SCREEN_FRESH);
	CHECK_INT("heard after now", screen_judge(now + 10, &none, now, stale),
	          SCREEN_FRESH);
	assert_null(screen_staleness_name(SCREEN_FRESH));
	assert_string_equal(screen_staleness_name(SCREEN_SILENT), "silent");
	assert_string_equal(screen_staleness_name(SCREEN_LAGGING), "lagging");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_report_read),
	    cmocka_unit_test(test_report_refused),
	    cmocka_unit_test(test_lag_and_staleness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
