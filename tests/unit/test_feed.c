/* test_feed.c: the feed's debounce (when screens are told the feed is
 * degraded, and when ok again) and the feed message's bytes. */
#include "unit.h"

#include "feed.h"
#include "message.h"
#include "topics.h"

#include <stdio.h>

#define T0   100000 /* loop ms of the first check */
#define WALL 1750750200

/*
 * Checks FEED_CHECK_MS apart, from the from-th on, one per character of
 * seen: '.' Redis all there, 'x' trouble "redis", 'l' trouble "library".
 * Each check's result goes into out: '-' nothing to tell, 'D' told
 * degraded, 'O' told ok.
 */
static void
run_from(struct feed_judge *j, size_t from, const char *seen, char *out)
{
	for (size_t i = 0; seen[i]; i++) {
		uint64_t now = T0 + (from + i) * FEED_CHECK_MS;
		const char *trouble = seen[i] == 'x'   ? "redis"
		                      : seen[i] == 'l' ? "library"
		                                       : NULL;

		out[i] = feed_judge(j, trouble, now,
		                    WALL + (time_t)((now - T0) / 1000))
		             ? (j->told.degraded ? 'D' : 'O')
		             : '-';
	}
	out[strlen(seen)] = '\0';
}

/* The checks from the first. */
static void
run(struct feed_judge *j, const char *seen, char *out)
{
	run_from(j, 0, seen, out);
}

static const struct {
	const char *name, *seen, *told;
} cases[] = {
    {"healthy", "............", "------------"},
    {"a blip under 2 s is never told", "xxxxxxx.....", "------------"},
    {"trouble for 2 s is told", "xxxxxxxxxxx", "--------D--"},
    {"health under a second does not restart the count", "xxxxxx..xxx",
     "--------D--"},
    {"a second of health forgets the trouble", "xxxxxx.....xxxxxxxxx",
     "-------------------D"},
    {"ok once health has lasted a second", "xxxxxxxxx......",
     "--------D----O-"},
    {"health under a second while degraded is not told", "xxxxxxxxx...x.....",
     "--------D--------O"},
    {"flapping every 750 ms is one degraded stretch",
     "xxx...xxx...xxx...xxx...xxx.......",
     "--------D----------------------O--"},
    {"a library missing is trouble too", "lllllllll", "--------D"},
};

/* Each case of the table, from a fresh judge started healthy. */
static void
test_debounce(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct feed_judge j;
		char out[64];

		feed_judge_init(&j, WALL);
		run(&j, cases[i].seen, out);
		if (strcmp(out, cases[i].told))
			fail_msg("%s: %s told %s, want %s", cases[i].name,
			         cases[i].seen, out, cases[i].told);
	}
}

/* Since is when the trouble (or the health) began, not when it was told;
 * the reason is the trouble's when it is told. */
static void
test_since_and_reason(void **state)
{
	struct feed_judge j;
	char out[64];

	(void)state;
	feed_judge_init(&j, WALL - 60);
	assert_int_equal(j.told.degraded, 0);
	assert_int_equal(j.told.since, WALL - 60);
	/* Trouble from the 5th check (t = 1 s), told at t = 3 s. */
	run(&j, "....lxxxxxxx", out);
	assert_string_equal(out, "------------");
	feed_judge_init(&j, WALL - 60);
	run(&j, "....lxxxxxxxx", out);
	assert_string_equal(out, "------------D");
	assert_int_equal(j.told.since, WALL + 1);
	assert_string_equal(j.told.reason, "redis");
	/* Health from t = 4 s, told at t = 5 s; since then. */
	run_from(&j, 13, "...x.......", out);
	assert_string_equal(out, "--------O--");
	assert_int_equal(j.told.degraded, 0);
	assert_int_equal(j.told.since, WALL + 4);
}

/* The feed message and the hello's "feed", byte for byte. */
static void
test_messages(void **state)
{
	struct msg_feed down = {
	    .degraded = 1, .since = WALL, .reason = "redis"};
	struct msg_feed up = {.degraded = 0, .since = WALL + 8, .reason = "x"};
	struct topic_filter all = {0};
	struct msg *m;
	size_t len;
	unsigned char *sse;

	(void)state;
	m = msg_new_feed(&down);
	assert_non_null(m);
	assert_string_equal((char *)msg_payload(m),
	                    "{\"type\":\"feed\",\"state\":\"degraded\","
	                    "\"since\":\"2025-06-24T07:30:00Z\","
	                    "\"reason\":\"redis\"}");
	assert_null(m->topic);
	assert_string_equal(m->type, "feed");
	sse = msg_sse(m, &len);
	assert_non_null(sse);
	assert_true(len > 19);
	assert_memory_equal(sse, "event: feed\ndata: {", 19);
	msg_unref(m);

	m = msg_new_feed(&up); /* ok has no reason */
	assert_non_null(m);
	assert_string_equal((char *)msg_payload(m),
	                    "{\"type\":\"feed\",\"state\":\"ok\","
	                    "\"since\":\"2025-06-24T07:30:08Z\"}");
	msg_unref(m);

	m = msg_new_hello(&all, WALL, "e1", &down);
	assert_non_null(m);
	assert_non_null(
	    strstr((char *)msg_payload(m),
	           ",\"epoch\":\"e1\",\"feed\":{\"state\":"
	           "\"degraded\",\"since\":\"2025-06-24T07:30:00Z\","
	           "\"reason\":\"redis\"}}"));
	msg_unref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debounce),
	    cmocka_unit_test(test_since_and_reason),
	    cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
