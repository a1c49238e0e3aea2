/* test_fanout_screens.c: what the ring tells of a named screen's lag
 * (fan_after, fan_count) and the readers per topic (fan_readers). */
#include "fanout_fake.h"

/* Publish a message on topic logged at ms (its seq's time), n-th then. */
static void
publish_on(struct fan *f, const char *topic, uint64_t ms, uint64_t n)
{
	struct msg *m =
	    msg_new_retract("x", topic, (struct seq){.ms = ms, .n = n});

	assert_non_null(m);
	fan_publish(f, m);
	msg_unref(m);
}

#define SEQ(a, b) (&(struct seq){.ms = (a), .n = (b)})

/* The first position after a seq, and the messages of some topics from a
 * position on, with the first one's time; past the ring's wrap too. */
static void
test_after_and_count(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct topic_filter a = filter("a"), all = filter(NULL);
	uint64_t first = 0;

	(void)state;
	assert_int_equal(fan_after(f, NULL), 1); /* empty: head + 1 */
	assert_int_equal(fan_after(f, SEQ(5, 0)), 1);
	assert_int_equal(fan_count(f, &all, 1, &first), 0);
	assert_int_equal(first, 0);
	publish_on(f, "a", 1000, 0); /* position 1 */
	publish_on(f, "b", 2000, 0); /* 2 */
	publish_on(f, "a", 3000, 0); /* 3 */
	publish_on(f, "a", 3000, 1); /* 4 */
	assert_int_equal(fan_after(f, NULL), 1);
	assert_int_equal(fan_after(f, SEQ(0, 0)), 1);
	assert_int_equal(fan_after(f, SEQ(1000, 0)), 2);
	assert_int_equal(fan_after(f, SEQ(2500, 7)), 3); /* not held: next */
	assert_int_equal(fan_after(f, SEQ(3000, 0)), 4);
	assert_int_equal(fan_after(f, SEQ(3000, 1)), 5); /* the newest */
	assert_int_equal(fan_after(f, SEQ(9000, 0)), 5); /* ahead of us */
	assert_int_equal(fan_count(f, &a, 2, &first), 2);
	assert_int_equal(first, 3000);
	first = 1; /* already known: kept */
	assert_int_equal(fan_count(f, &a, 1, &first), 3);
	assert_int_equal(first, 1);
	first = 0;
	assert_int_equal(fan_count(f, &all, 1, &first), 4);
	assert_int_equal(first, 1000);
	first = 0;
	assert_int_equal(fan_count(f, &a, 5, &first), 0); /* past the head */
	assert_int_equal(first, 0);
	publish_on(f, "b", 5000, 0); /* 5: position 1 is gone */
	assert_int_equal(fan_after(f, SEQ(500, 0)), 2);   /* the oldest held */
	assert_int_equal(fan_count(f, &a, 1, &first), 2); /* from the tail */
	assert_int_equal(first, 3000);
	fan_free(f);
}

/* Every reader once under each topic it chose; all topics under "all". */
static void
test_readers(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct fan_readers *r = malloc(sizeof(*r));
	struct peer p[5];

	(void)state;
	assert_non_null(r);
	fan_readers(f, r);
	assert_int_equal(r->n, 0);
	assert_int_equal(r->all, 0);
	join_idle(f, &p[0], NULL, 1000);
	join_idle(f, &p[1], "world,breaking", 1000);
	join_idle(f, &p[2], "breaking,world", 1000); /* the same audience */
	join_idle(f, &p[3], "sport", 1000);
	join_kind(f, &p[4], FAN_SSE, "world", fan_head(f) + 1, NULL);
	fan_readers(f, r);
	assert_int_equal(r->all, 1);
	assert_int_equal(r->other, 0);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->at[0].topic, "breaking");
	assert_int_equal(r->at[0].readers, 2);
	assert_string_equal(r->at[1].topic, "sport");
	assert_int_equal(r->at[1].readers, 1);
	assert_string_equal(r->at[2].topic, "world");
	assert_int_equal(r->at[2].readers, 3);
	for (int i = 0; i < 5; i++)
		leave(f, &p[i]);
	fan_readers(f, r);
	assert_int_equal(r->n + r->all, 0);
	free(r);
	fan_free(f);
}

/* Past FAN_READER_TOPICS topics, the rest are counted as other. */
static void
test_readers_bounded(void **state)
{
	enum { N = FAN_READER_TOPICS + 3 };
	struct fan *f = fan_new(4, &fake_ops);
	struct fan_readers *r = malloc(sizeof(*r));
	struct peer *p = calloc(N, sizeof(*p));
	char topic[16];

	(void)state;
	assert_non_null(r);
	assert_non_null(p);
	for (int i = 0; i < N; i++) {
		snprintf(topic, sizeof(topic), "t%04d", i);
		join_idle(f, &p[i], topic, 1000);
	}
	fan_readers(f, r);
	assert_int_equal(r->n, FAN_READER_TOPICS);
	assert_int_equal(r->other, 3);
	for (unsigned i = 1; i < r->n; i++)
		assert_true(strcmp(r->at[i - 1].topic, r->at[i].topic) < 0);
	for (int i = 0; i < N; i++)
		leave(f, &p[i]);
	free(p);
	free(r);
	fan_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_after_and_count),
	    cmocka_unit_test(test_readers),
	    cmocka_unit_test(test_readers_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
