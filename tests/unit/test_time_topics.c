/* test_time_topics.c: ISO 8601 parsing and client topic filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "isotime.h"
#include "topics.h"

#include <string.h>

static void
test_isotime_converts_to_utc(void **state)
{
	static const struct {
		const char *in, *utc;
	} ok[] = {
	    {"2025-06-24T09:30:00+02:00", "2025-06-24T07:30:00Z"},
	    {"2025-06-24T07:30:00Z", "2025-06-24T07:30:00Z"},
	    {"2025-06-24T07:30:00.123456Z", "2025-06-24T07:30:00Z"},
	    {"2013-07-09T10:37:00-0400", "2013-07-09T14:37:00Z"},
	    {"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"},
	    {"2024-02-29T12:00:00", "2024-02-29T12:00:00Z"},
	    {"2025-06-24 07:30Z", "2025-06-24T07:30:00Z"},
	};
	static const char *const bad[] = {
	    "",
	    "yesterday",
	    "2025-13-01T00:00:00Z",
	    "2023-02-29T00:00:00Z",
	    "2025-06-24",
	    "2025-06-24T25:00:00Z",
	    "2025-06-24T07:30:00+2",
	    "2025-06-24T07:30:00Zjunk",
	    "1969-12-31T23:59:59Z",
	};
	char out[ISOTIME_LEN];
	time_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (isotime_parse(ok[i].in, &t))
			fail_msg("rejected %s", ok[i].in);
		isotime_format(t, out);
		assert_string_equal(out, ok[i].utc);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!isotime_parse(bad[i], &t))
			fail_msg("accepted %s", bad[i]);
}

static void
test_topic_filters(void **state)
{
	struct topic_filter a, b;
	char why[128];

	(void)state;
	assert_int_equal(topic_filter_parse(&a, NULL, why, sizeof(why)), 0);
	assert_int_equal(a.count, 0);
	assert_true(topic_filter_match(&a, "anything"));

	assert_int_equal(
	    topic_filter_parse(&a, "world,breaking,world,", why, sizeof(why)),
	    0);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.names[0], "breaking");
	assert_true(topic_filter_match(&a, "world"));
	assert_false(topic_filter_match(&a, "sport"));
	assert_int_equal(
	    topic_filter_parse(&b, "breaking,world", why, sizeof(why)), 0);
	assert_true(topic_filter_equal(&a, &b));

	assert_int_equal(
	    topic_filter_parse(&a, "ok,bad topic", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "bad topic"));
	assert_false(topic_is_valid("a:b", 3));
	assert_false(topic_is_valid("", 0));
	assert_true(topic_is_valid("sport.live-1_x", 14));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_isotime_converts_to_utc),
	    cmocka_unit_test(test_topic_filters),
	};
	return cmocka_run_group_tests_name("isotime+topics", tests, NULL, NULL);
}
