/* test_fanout.c: the ring, audiences, catch-up, resync and culling, with
 * clients on fake connections (fanout_fake.h). */
#include "fanout_fake.h"

/* Publishing past the ring's size overwrites its oldest entries: a
 * caught-up client still gets every message, in order. */
static void
test_wrap_around_at_capacity(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct peer p;
	char id[8];

	(void)state;
	join_idle(f, &p, NULL, SIZE_MAX / 2);
	for (int i = 1; i <= 10; i++) {
		snprintf(id, sizeof(id), "m%d", i);
		publish(f, "w", id);
		if (i % 3 == 0)
			fan_flush(f); /* several per turn, or one */
	}
	fan_flush(f);
	assert_received(&p, "m1\nm2\nm3\nm4\nm5\nm6\nm7\nm8\nm9\nm10\n");
	assert_int_equal(fan_head(f), 10);
	assert_int_equal(fan_used(f), 4);
	/* The oldest left is m7: m6 can't be resumed from, m7 can. */
	assert_int_equal(fan_find(f, &(struct seq){.ms = 1000, .n = seq_n - 4}),
	                 0);
	assert_int_equal(fan_find(f, &(struct seq){.ms = 1000, .n = seq_n - 3}),
	                 7);
	assert_int_equal(fan_state_of(&p.c), FAN_IDLE);
	assert_int_equal(p.conn.wants, 0);
	leave(f, &p);
	fan_free(f);
}

/* Publish a message logged at ms (its seq's time). */
static void
publish_at(struct fan *f, uint64_t ms, uint64_t n)
{
	struct msg *m =
	    msg_new_retract("x", "t", (struct seq){.ms = ms, .n = n});

	assert_non_null(m);
	fan_publish(f, m);
	msg_unref(m);
}

/* Resuming from a time: the position of the last message logged at or
 * before it; 0 when the ring does not reach back that far. */
static void
test_find_time(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);

	(void)state;
	assert_int_equal(fan_find_time(f, 5000), 0); /* nothing yet */
	publish_at(f, 1000, 0);                      /* position 1 */
	publish_at(f, 2000, 0);                      /* 2 */
	publish_at(f, 2000, 1);                      /* 3 */
	publish_at(f, 3000, 0);                      /* 4 */
	assert_int_equal(fan_find_time(f, 999), 0);
	assert_int_equal(fan_find_time(f, 1000), 1);
	assert_int_equal(fan_find_time(f, 1999), 1);
	assert_int_equal(fan_find_time(f, 2000), 3);
	assert_int_equal(fan_find_time(f, 2999), 3);
	assert_int_equal(fan_find_time(f, 9999), 4); /* nothing after */
	publish_at(f, 4000, 0); /* 5: position 1 is overwritten */
	assert_int_equal(fan_find_time(f, 1500), 0);
	assert_int_equal(fan_find_time(f, 2000), 3);
	fan_free(f);
}

static struct msg *same_snapshot(void *arg, const struct topic_filter *f);

/* After a rollback the snapshot stands for the new log's last entry, which
 * the ring never held: resuming from it goes on after the snapshot, until
 * the ring has moved past it. */
static void
test_resume_from_rebase_point(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct seq at = {.ms = 1500, .n = 0};
	struct msg *snap;

	(void)state;
	publish_at(f, 1000, 0);
	publish_at(f, 2000, 0); /* read, then lost in a failover */
	snap = msg_new_retract("s", "t", at);
	fan_resync(f, &at, same_snapshot, snap);
	msg_unref(snap);
	assert_int_equal(seq_cmp(*fan_resync_point(f), at), 0);
	assert_int_equal(fan_find(f, &at), 2); /* go on at 3 */
	assert_int_equal(fan_find(f, &(struct seq){.ms = 2000}), 0);
	publish_at(f, 2100, 0); /* 3 */
	publish_at(f, 2200, 0); /* 4 */
	publish_at(f, 2300, 0); /* 5 */
	assert_int_equal(fan_find(f, &at), 2);
	publish_at(f, 2400, 0); /* 6: position 3 is gone */
	assert_int_equal(fan_find(f, &at), 0);
	fan_free(f);
}

/* More than a ring's worth in one turn: a caught-up client missed some,
 * and is culled rather than sent a stream with a hole in it. */
static void
test_wrap_in_one_turn_culls(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct peer p;
	uint64_t culled = metrics.culled;

	(void)state;
	join_idle(f, &p, NULL, SIZE_MAX / 2);
	for (int i = 0; i < 5; i++)
		publish(f, "w", "x");
	fan_flush(f);
	assert_int_equal(p.conn.got_len, 0);
	give_room(f, &p, 1); /* its WRITEABLE */
	assert_int_equal(fan_state_of(&p.c), FAN_DEAD);
	assert_true(p.conn.closed);
	assert_int_equal(p.conn.got_len, 0);
	assert_int_equal(metrics.culled, culled + 1);
	leave(f, &p);
	fan_free(f);
}

/*
 * A client that reads nothing: while the oldest message it still needs is
 * in the ring (it is a whole ring behind, not more) it stays and then
 * gets everything in order; one message later it is culled by the sweep.
 */
static void
test_exactly_one_ring_behind(void **state)
{
	struct fan *f = fan_new(4, &fake_ops);
	struct peer slow, slower;
	uint64_t culled = metrics.culled;

	(void)state;
	join_idle(f, &slow, NULL, 0);
	/* Its socket is full: m1 goes nowhere, it catches up from m1. */
	publish(f, "w", "m1");
	fan_flush(f);
	assert_int_equal(fan_state_of(&slow.c), FAN_PENDING);
	for (int i = 2; i <= 4; i++) {
		publish(f, "w", i == 2 ? "m2" : i == 3 ? "m3" : "m4");
		fan_flush(f);
	}
	fan_sweep(f);
	assert_int_equal(fan_state_of(&slow.c), FAN_PENDING);
	assert_int_equal(metrics.culled, culled);
	give_room(f, &slow, SIZE_MAX / 2);
	assert_received(&slow, "m1\nm2\nm3\nm4\n");
	assert_int_equal(fan_state_of(&slow.c), FAN_IDLE);

	/* The same, one message further: m5 overwrote the m1 it needs. */
	join_idle(f, &slower, NULL, 0);
	for (int i = 5; i <= 9; i++) {
		publish(f, "w", "later");
		fan_flush(f);
	}
	assert_int_equal(fan_state_of(&slower.c), FAN_PENDING);
	assert_int_equal(slower.c.next, 5);
	assert_int_equal(fan_head(f), 9);
	fan_sweep(f);
	assert_int_equal(fan_state_of(&slower.c), FAN_DEAD);
	assert_true(slower.conn.closed);
	assert_int_equal(metrics.culled, culled + 1);
	assert_int_equal(fan_state_of(&slow.c), FAN_IDLE);
	leave(f, &slow);
	leave(f, &slower);
	fan_free(f);
}

/*
 * A socket that takes a few bytes at a time: whatever it refused of a
 * message is kept and goes first; the client catches up from WRITEABLE
 * and gets each message once, whole, in order.
 */
static void
test_partial_writes_keep_order(void **state)
{
	struct fan *f = fan_new(64, &fake_ops);
	struct peer p;
	char id[8], want[512] = "";

	(void)state;
	join_idle(f, &p, NULL, 0);
	for (int i = 1; i <= 40; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		strcat(want, id);
		strcat(want, "\n");
		publish(f, "w", id);
		if (i % 4 == 0) {
			fan_flush(f);
			give_room(f, &p, 37); /* never a whole number */
		}
	}
	fan_flush(f);
	for (int turns = 0; fan_state_of(&p.c) != FAN_IDLE || p.conn.kept_len;
	     turns++) {
		if (turns == 1000)
			fail_msg("never caught up");
		give_room(f, &p, 37);
	}
	assert_received(&p, want);
	leave(f, &p);
	fan_free(f);
}

/* fan_resync()'s snapshot maker: the same snapshot (arg) for everyone. */
static struct msg *
same_snapshot(void *arg, const struct topic_filter *f)
{
	(void)f;
	return msg_ref(arg);
}

/*
 * Resync while clients are pending: one halfway through a greeting sent
 * in pieces finishes it first, one that has not had its hello yet gets
 * it first; then both get the new snapshot, then what comes after.
 */
static void
test_resync_while_pending(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer halfway, unhelloed, idle;
	struct topic_filter all = filter(NULL);

	(void)state;
	publish(f, "w", "old");
	fan_flush(f);
	join(f, &halfway, NULL, fan_head(f) + 1, NULL,
	     big_message(NULL, 600 * 1024, 'g'));
	join(f, &unhelloed, NULL, fan_head(f) + 1,
	     msg_new_hello(&all, 0, NULL, NULL), NULL);
	join_idle(f, &idle, NULL, SIZE_MAX / 2);
	halfway.conn.wants = 1;
	give_room(f, &halfway, 70 * 1024); /* of a first write of 256 KiB */
	assert_true(halfway.c.off > 0);
	assert_int_equal(fan_state_of(&halfway.c), FAN_PENDING);

	publish(f, "w", "lost-in-gap"); /* flushed before the resync */
	{
		struct msg *snap = message("w", "resync-snapshot");

		fan_resync(f, NULL, same_snapshot, snap);
		msg_unref(snap);
	}
	publish(f, "w", "after");
	fan_flush(f);
	give_room(f, &halfway, SIZE_MAX / 2);
	give_room(f, &unhelloed, SIZE_MAX / 2);
	give_room(f, &idle, SIZE_MAX / 2);
	assert_received(&halfway, "<g x 614400>\nresync-snapshot\nafter\n");
	assert_received(&unhelloed, "<hello>\nresync-snapshot\nafter\n");
	assert_received(&idle, "lost-in-gap\nresync-snapshot\nafter\n");
	/* The ring before the gap can't be resumed from any more, but the
	 * point the snapshot stands for can: "after" comes next. */
	assert_int_equal(fan_find(f, &(struct seq){.ms = 1000, .n = 1}), 0);
	assert_int_equal(fan_resync_point(f)->n, seq_n - 2);
	assert_int_equal(fan_find(f, fan_resync_point(f)), 2);
	assert_int_equal(fan_head(f), 3);
	leave(f, &halfway);
	leave(f, &unhelloed);
	leave(f, &idle);
	fan_free(f);
}

/* A client whose topics nothing published matches: it is sent nothing,
 * asked about nothing, and still gets the first message that matches. */
static void
test_filter_that_matches_nothing(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer sports, all;

	(void)state;
	join_idle(f, &sports, "sports,weather", SIZE_MAX / 2);
	join_idle(f, &all, NULL, SIZE_MAX / 2);
	for (int i = 0; i < 20; i++) { /* more than a ring, a turn each */
		publish(f, "world", "w");
		fan_flush(f);
	}
	fan_sweep(f);
	assert_int_equal(sports.conn.got_len, 0);
	assert_int_equal(sports.conn.wants, 0);
	assert_int_equal(fan_state_of(&sports.c), FAN_IDLE);
	publish(f, "sports", "goal");
	fan_flush(f);
	assert_received(&sports, "goal\n");
	assert_int_equal(all.conn.got_len > 0, 1);
	leave(f, &sports);
	leave(f, &all);
	fan_free(f);
}

/*
 * Owed more than 1 MiB (a greeting of several MB) and taking none of it,
 * sweep after sweep: culled on the eighth sweep after the one that saw
 * it take something last.  One whose socket queue shrinks between sweeps
 * (a slow reader) is not.
 */
static void
test_stalled_client_is_culled(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer stuck, slow;
	uint64_t culled = metrics.culled_unsent;

	(void)state;
	join(f, &stuck, NULL, 1, NULL, big_message(NULL, 3 << 20, 's'));
	join(f, &slow, NULL, 1, NULL, big_message(NULL, 3 << 20, 't'));
	stuck.conn.wants = slow.conn.wants = 1;
	give_room(f, &stuck, 1);
	give_room(f, &slow, 1);
	stuck.conn.unacked = slow.conn.unacked = 200000;
	for (int i = 0; i < 8; i++) {
		fan_sweep(f);
		slow.conn.unacked -= 1000;
	}
	assert_int_equal(fan_state_of(&stuck.c), FAN_PENDING);
	fan_sweep(f);
	assert_int_equal(fan_state_of(&stuck.c), FAN_DEAD);
	assert_true(stuck.conn.closed);
	assert_int_equal(fan_state_of(&slow.c), FAN_PENDING);
	assert_int_equal(metrics.culled_unsent, culled + 1);
	leave(f, &stuck);
	leave(f, &slow);
	fan_free(f);
}

/* The named transitions: closing and retiring stop ring writes. */
static void
test_state_transitions(void **state)
{
	struct fan *f = fan_new(8, &fake_ops);
	struct peer a, b;

	(void)state;
	join_idle(f, &a, NULL, SIZE_MAX / 2);
	join_idle(f, &b, NULL, SIZE_MAX / 2);
	fan_close(f, &a.c);
	assert_int_equal(fan_state_of(&a.c), FAN_CLOSING);
	assert_int_equal(a.conn.wants, 1);
	fan_retire(&b.c);
	assert_int_equal(fan_state_of(&b.c), FAN_DEAD);
	assert_false(b.conn.closed);
	publish(f, "w", "x");
	fan_flush(f);
	assert_int_equal(a.conn.got_len, 0);
	assert_int_equal(b.conn.got_len, 0);
	assert_int_equal(
	    fan_send_raw(f, &a.c, (const unsigned char *)"\x89", 2), -1);
	fan_kill(f, &a.c);
	assert_int_equal(fan_state_of(&a.c), FAN_DEAD);
	assert_true(a.conn.closed);
	fan_close(f, &a.c); /* the dead stay dead */
	assert_int_equal(fan_state_of(&a.c), FAN_DEAD);
	leave(f, &a);
	leave(f, &b);
	fan_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wrap_around_at_capacity),
	    cmocka_unit_test(test_wrap_in_one_turn_culls),
	    cmocka_unit_test(test_find_time),
	    cmocka_unit_test(test_resume_from_rebase_point),
	    cmocka_unit_test(test_exactly_one_ring_behind),
	    cmocka_unit_test(test_partial_writes_keep_order),
	    cmocka_unit_test(test_resync_while_pending),
	    cmocka_unit_test(test_filter_that_matches_nothing),
	    cmocka_unit_test(test_stalled_client_is_culled),
	    cmocka_unit_test(test_state_transitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
