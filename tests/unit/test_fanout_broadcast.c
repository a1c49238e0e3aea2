/* test_fanout_broadcast.c: messages for every client whatever its topics
 * (fan_broadcast(): the feed's state), on fake connections
 * (fanout_fake.h). */
#include "fanout_fake.h"

/* A feed message: degraded (since 1000 s into 1970, for reason) or ok. */
static struct msg *
feed_message(int degraded)
{
	struct msg_feed fd = {
	    .degraded = degraded, .since = 1000, .reason = "redis"};
	struct msg *m = msg_new_feed(&fd);

	assert_non_null(m);
	assert_null(m->topic);
	assert_int_equal(m->has_seq, 0);
	return m;
}

/* Broadcast a feed message (degraded or ok). */
static void
broadcast(struct fan *f, int degraded)
{
	struct msg *m = feed_message(degraded);

	fan_broadcast(f, m);
	msg_unref(m);
}

/* How many times needle is in what p was sent. */
static int
count_in(const struct peer *p, const char *needle)
{
	int n = 0;
	size_t len = strlen(needle);

	for (size_t i = 0; i + len <= p->conn.got_len; i++)
		n += !memcmp(p->conn.got + i, needle, len);
	return n;
}

/*
 * A broadcast reaches every client whatever its topics: caught-up ones at
 * once (before this turn's messages, after what their connection keeps),
 * pending ones after their greeting and before what they catch up on, a
 * client halfway through a greeting in pieces only once it is whole;
 * closing ones get nothing.  Nothing of it goes in the ring.
 */
static void
test_broadcast_reaches_everyone(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer all, sports, kept, greeted, halfway, closing, newcomer;
	struct topic_filter tf = filter(NULL);
	uint64_t head;

	(void)state;
	join_idle(f, &all, NULL, SIZE_MAX / 2);
	join_idle(f, &sports, "sports", SIZE_MAX / 2);
	join_idle(f, &kept, NULL, 5);
	publish(f, "w", "m1");
	fan_flush(f); /* kept's socket takes 5 bytes of m1, keeps the rest */
	assert_int_equal(fan_state_of(&kept.c), FAN_IDLE);
	assert_true(kept.conn.kept_len > 0);
	join(f, &greeted, NULL, fan_head(f) + 1,
	     msg_new_hello(&tf, 0, NULL, NULL), message("w", "snap"));
	join(f, &halfway, NULL, fan_head(f) + 1, NULL,
	     big_message(NULL, 600 * 1024, 'g'));
	halfway.conn.wants = 1;
	give_room(f, &halfway, 70 * 1024);
	assert_true(halfway.c.off > 0);
	join_idle(f, &closing, NULL, SIZE_MAX / 2);
	fan_close(f, &closing.c);

	publish(f, "w", "m2"); /* not flushed yet */
	head = fan_head(f);
	broadcast(f, 1);
	assert_int_equal(fan_head(f), head); /* not in the ring */
	assert_received(&all, "m1\n<feed>\n");
	assert_received(&sports, "<feed>\n");
	assert_int_equal(greeted.conn.wants, 1);
	fan_flush(f);
	give_room(f, &kept, SIZE_MAX / 2);
	give_room(f, &greeted, SIZE_MAX / 2);
	give_room(f, &halfway, SIZE_MAX / 2);
	give_room(f, &closing, SIZE_MAX / 2);
	assert_received(&all, "m1\n<feed>\nm2\n");
	assert_received(&sports, "<feed>\n");
	assert_received(&kept, "m1\n<feed>\nm2\n");
	assert_received(&greeted, "<hello>\nsnap\n<feed>\nm2\n");
	assert_received(&halfway, "<g x 614400>\n<feed>\nm2\n");
	assert_int_equal(closing.conn.got_len, 0);
	assert_int_equal(count_in(&all, "\"state\":\"degraded\""), 1);
	assert_int_equal(count_in(&all, "\"reason\":\"redis\""), 1);
	assert_int_equal(fan_state_of(&greeted.c), FAN_IDLE);
	assert_int_equal(fan_state_of(&halfway.c), FAN_IDLE);

	/* A newcomer is told by its hello, not by an earlier broadcast. */
	join(f, &newcomer, NULL, fan_head(f) + 1, NULL, NULL);
	assert_int_equal(fan_writeable(f, &newcomer.c), 0);
	assert_int_equal(newcomer.conn.got_len, 0);
	assert_int_equal(fan_state_of(&newcomer.c), FAN_IDLE);
	leave(f, &all);
	leave(f, &sports);
	leave(f, &kept);
	leave(f, &greeted);
	leave(f, &halfway);
	leave(f, &closing);
	leave(f, &newcomer);
	fan_free(f);
}

/*
 * A pending client owed a broadcast that is followed by another gets the
 * newest only; an EventSource client gets it as an event without an id.
 */
static void
test_broadcast_newest_wins(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer behind, sse;
	const char *want = "event: feed\ndata: "
	                   "{\"type\":\"feed\",\"state\":\"ok\",\"since\":"
	                   "\"1970-01-01T00:16:40Z\"}\n\n";

	(void)state;
	join(f, &behind, NULL, fan_head(f) + 1, NULL, NULL);
	join_kind(f, &sse, FAN_SSE, "world", fan_head(f) + 1, NULL);
	assert_int_equal(fan_writeable(f, &sse.c), 0);
	assert_int_equal(fan_state_of(&sse.c), FAN_IDLE);
	sse.conn.room = 0; /* full: it keeps the broadcasts, in order */
	broadcast(f, 1);
	broadcast(f, 0);
	give_room(f, &behind, SIZE_MAX / 2); /* its first WRITEABLE */
	assert_received(&behind, "<feed>\n");
	assert_int_equal(count_in(&behind, "\"state\":\"ok\""), 1);
	assert_int_equal(count_in(&behind, "degraded"), 0);
	give_room(f, &sse, SIZE_MAX / 2);
	assert_int_equal(count_in(&sse, "event: feed\ndata: "), 2);
	assert_int_equal(count_in(&sse, "id:"), 0);
	assert_true(sse.conn.got_len > strlen(want));
	assert_memory_equal(sse.conn.got + sse.conn.got_len - strlen(want),
	                    want, strlen(want));
	leave(f, &behind);
	leave(f, &sse);
	fan_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_broadcast_reaches_everyone),
	    cmocka_unit_test(test_broadcast_newest_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
