/* test_fanout_regroup.c: a client whose grants change mid-stream
 * (fan_regroup(), for access.c): it moves audience, gets its access
 * message and the new set's snapshot, then the new set's messages from
 * the ring head; what it was owed of the old set is dropped; not while
 * its greeting is under way. */
#include "fanout_fake.h"

static struct topic_filter
granted(const char *topics, const char *grant)
{
	struct topic_filter tf = filter(topics);
	char names[1][TOPIC_MAX_LEN + 1];

	snprintf(names[0], sizeof(names[0]), "%s", grant);
	topic_filter_grant(&tf, (const char(*)[TOPIC_MAX_LEN + 1]) names, 1);
	return tf;
}

static void
test_regroup_grant_and_loss(void **state)
{
	struct fan *f = fan_new(16, &fake_ops);
	struct peer a, b;
	struct topic_filter g, plain = filter("w,p");
	char why[64];

	(void)state;
	assert_int_equal(topics_private_set("p", why, sizeof(why)), 0);
	g = granted("w,p", "p");
	assert_int_equal(g.granted, 1);
	join_idle(f, &a, "w,p", SIZE_MAX / 2);
	join_idle(f, &b, "w,p", SIZE_MAX / 2);
	publish(f, "p", "x1");
	publish(f, "w", "w1");
	fan_flush(f);
	assert_received(&a, "w1\n"); /* no grant: no private item */

	/* Granted: access, snapshot, then the private topic live; b, of
	 * the same topics= but no grant, still gets none of it. */
	struct msg *first[2] = {message("w", "access"), message("w", "snap")};
	publish(f, "w", "w2"); /* published, not yet flushed: a had it */
	assert_int_equal(fan_regroup(f, &a.c, &g, first), 0);
	assert_true(topic_filter_equal(fan_filter_of(&a.c), &g));
	give_room(f, &a, 0);
	publish(f, "p", "x2");
	fan_flush(f);
	give_room(f, &a, 0);
	assert_received(&a, "w1\nw2\naccess\nsnap\nx2\n");
	assert_received(&b, "w1\nw2\n");

	/* Same set again (a renewal): the access message alone, and it goes
	 * on where it was. */
	struct msg *again[2] = {message("w", "renewed"), NULL};
	assert_int_equal(fan_regroup(f, &a.c, &g, again), 0);
	give_room(f, &a, 0);
	publish(f, "w", "w3");
	fan_flush(f);
	give_room(f, &a, 0);
	assert_received(&a, "w1\nw2\naccess\nsnap\nx2\nrenewed\nw3\n");

	/* Lost (expiry): back to b's audience, and no private item. */
	struct msg *lost[2] = {message("w", "expired"), message("w", "snap2")};
	assert_int_equal(fan_regroup(f, &a.c, &plain, lost), 0);
	give_room(f, &a, 0);
	publish(f, "p", "x3");
	publish(f, "w", "w4");
	fan_flush(f);
	give_room(f, &a, 0);
	assert_received(&a, "w1\nw2\naccess\nsnap\nx2\nrenewed\nw3\nexpired\n"
	                    "snap2\nw4\n");
	assert_ptr_equal(a.c.aud, b.c.aud);

	leave(f, &a);
	leave(f, &b);
	fan_free(f);
	topics_private_set(NULL, why, sizeof(why));
}

static void
test_regroup_not_during_greeting(void **state)
{
	struct fan *f = fan_new(16, &fake_ops);
	struct peer a;
	struct topic_filter g;
	struct msg *first[2] = {message("w", "access"), NULL};
	char why[64];

	(void)state;
	assert_int_equal(topics_private_set("p", why, sizeof(why)), 0);
	g = granted("p", "p");
	join(f, &a, "p", fan_head(f) + 1, message("", "hello"), NULL);
	/* Its hello is not out: not the moment. */
	assert_int_equal(fan_regroup(f, &a.c, &g, first), 1);
	a.conn.room = SIZE_MAX / 2;
	assert_int_equal(fan_writeable(f, &a.c), 0);
	assert_received(&a, "hello\n");
	/* Now it is. */
	struct msg *now[2] = {message("w", "access"), message("w", "snap")};
	assert_int_equal(fan_regroup(f, &a.c, &g, now), 0);
	give_room(f, &a, 0);
	assert_received(&a, "hello\naccess\nsnap\n");
	leave(f, &a);
	fan_free(f);
	topics_private_set(NULL, why, sizeof(why));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regroup_grant_and_loss),
	    cmocka_unit_test(test_regroup_not_during_greeting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
