/* test_since.c: resume points: a seq, a duration before now, a time. */
#include "unit.h"

#include "since.h"

#define NOW 1750750200000ULL /* 2025-06-24T07:30:00Z */

static void
test_since_forms(void **state)
{
	static const struct {
		const char *text;
		enum since_kind kind;
		uint64_t ms; /* SINCE_TIME */
	} cases[] = {
	    {"1750750100000-3", SINCE_SEQ, 0},
	    {"90s", SINCE_TIME, NOW - 90000},
	    {"30m", SINCE_TIME, NOW - 1800000},
	    {"2h", SINCE_TIME, NOW - 7200000},
	    {"1d", SINCE_TIME, NOW - 86400000},
	    {"0s", SINCE_TIME, NOW},
	    {"1000d", SINCE_TIME, NOW - 1000ULL * 86400000},
	    {"2025-06-24T07:00:00Z", SINCE_TIME, NOW - 1800000},
	    {"2025-06-24T09:00:00+02:00", SINCE_TIME, NOW - 1800000},
	    {"1001d", SINCE_BAD, 0},
	    {"2w", SINCE_BAD, 0},
	    {"m", SINCE_BAD, 0},
	    {"-5m", SINCE_BAD, 0},
	    {"5 m", SINCE_BAD, 0},
	    {"30m ", SINCE_BAD, 0},
	    {"9999999999m", SINCE_BAD, 0},
	    {"-", SINCE_BAD, 0},
	    {"", SINCE_BAD, 0},
	    {"yesterday", SINCE_BAD, 0},
	};
	struct since s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		since_parse(cases[i].text, NOW, &s);
		if (s.kind != cases[i].kind)
			fail_msg("\"%s\": kind %d, not %d", cases[i].text,
			         s.kind, cases[i].kind);
		if (s.kind == SINCE_TIME && s.ms != cases[i].ms)
			fail_msg("\"%s\": %llu, not %llu", cases[i].text,
			         (unsigned long long)s.ms,
			         (unsigned long long)cases[i].ms);
	}
	since_parse("1750750100000-3", NOW, &s);
	assert_int_equal(s.seq.ms, 1750750100000ULL);
	assert_int_equal(s.seq.n, 3);
	since_parse("1d", 1000, &s); /* before the epoch: from its start */
	assert_int_equal(s.ms, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_since_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
