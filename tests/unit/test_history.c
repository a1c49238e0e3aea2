/* test_history.c: update by version, duplicates, retraction, order, cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

#include "history.h"
#include "item.h"
#include "message.h"
#include "seq.h"
#include "topics.h"

#include <stdlib.h>
#include <string.h>

static uint64_t next_seq;

/* Parse payload on topic and offer it as ingest does; returns the result. */
static enum hist_result
offer(struct history *h, const char *topic, const char *payload)
{
	struct item it;
	struct item_error err;
	enum hist_result r;
	long version;

	assert_int_equal(
	    item_parse(topic, payload, strlen(payload), 1000, &it, &err), 0);
	r = history_check(h, it.topic, it.id, it.id_derived, it.version,
	                  it.version_given, &version);
	if (r == HIST_NEW || r == HIST_UPDATED) {
		struct msg *m;

		struct seq seq = {.ms = 1000, .n = ++next_seq};
		char seqbuf[SEQ_STR_LEN];

		seq_format(seq, seqbuf);
		item_set_version(&it, version);
		item_set_seq(&it, seqbuf);
		m = msg_new_item(&it, seq);
		assert_non_null(m);
		assert_int_equal(history_put(h, it.topic, it.id, version, m),
		                 0);
		msg_unref(m);
	}
	item_free(&it);
	return r;
}

/* A kill of id on topic, read from the log as the next entry. */
static int
kill_item(struct history *h, const char *topic, const char *id)
{
	return history_remove(h, topic, id,
	                      (struct seq){.ms = 1000, .n = ++next_seq});
}

/* The snapshot the filter would get, as one string. */
static char *
snapshot(struct history *h, const char *topics)
{
	struct topic_filter f;
	struct msg **items, *m;
	char why[64], *s;
	long n;

	assert_int_equal(topic_filter_parse(&f, topics, why, sizeof(why)), 0);
	n = history_collect(h, &f, &items);
	assert_true(n >= 0);
	m = msg_new_snapshot(items, (size_t)n, NULL, 0);
	free(items);
	s = strdup((char *)msg_payload(m));
	msg_unref(m);
	return s;
}

static void
assert_snapshot_has(struct history *h, const char *topics,
                    const char *const *needles, int present)
{
	char *s = snapshot(h, topics);

	for (; *needles; needles++)
		if (present ? !strstr(s, *needles) : !!strstr(s, *needles))
			fail_msg("snapshot %s %s: %s",
			         present ? "lacks" : "has", *needles, s);
	free(s);
}

static void
test_correction_replaces_in_place(void **state)
{
	struct history *h = history_new(50);
	char *s;

	(void)state;
	assert_int_equal(offer(h, "w", "{\"id\":\"a\",\"headline\":\"A1\"}"),
	                 HIST_NEW);
	assert_int_equal(offer(h, "w", "{\"id\":\"b\",\"headline\":\"B\"}"),
	                 HIST_NEW);
	assert_int_equal(offer(h, "w",
	                       "{\"id\":\"a\",\"headline\":\"A2\","
	                       "\"version\":2}"),
	                 HIST_UPDATED);
	assert_int_equal(history_count(h), 2);
	s = snapshot(h, NULL);
	/* a keeps its place before b, with the new text and version. */
	assert_non_null(strstr(s, "\"headline\":\"A2\""));
	assert_null(strstr(s, "A1"));
	assert_true(strstr(s, "\"id\":\"a\"") < strstr(s, "\"id\":\"b\""));
	assert_non_null(strstr(s, "\"version\":2"));
	free(s);
	history_free(h);
}

static void
test_stale_and_duplicate_are_refused(void **state)
{
	struct history *h = history_new(50);

	(void)state;
	assert_int_equal(offer(h, "w",
	                       "{\"id\":\"a\",\"headline\":\"v3\","
	                       "\"version\":3}"),
	                 HIST_NEW);
	assert_int_equal(offer(h, "w",
	                       "{\"id\":\"a\",\"headline\":\"v2\","
	                       "\"version\":2}"),
	                 HIST_STALE);
	assert_int_equal(offer(h, "w",
	                       "{\"id\":\"a\",\"headline\":\"v3 again\","
	                       "\"version\":3}"),
	                 HIST_STALE);
	assert_int_equal(offer(h, "w", "Plain headline"), HIST_NEW);
	assert_int_equal(offer(h, "w", "Plain headline"), HIST_DUPLICATE);
	/* Same text on another topic is another item. */
	assert_int_equal(offer(h, "x", "Plain headline"), HIST_NEW);
	static const char *const kept[] = {"v3", NULL};
	static const char *const gone[] = {"v2", "again", NULL};
	assert_snapshot_has(h, "w", kept, 1);
	assert_snapshot_has(h, "w", gone, 0);
	history_free(h);
}

static void
test_unversioned_update_increments(void **state)
{
	struct history *h = history_new(50);
	long v;

	(void)state;
	offer(h, "w", "{\"id\":\"a\",\"headline\":\"one\",\"version\":4}");
	assert_int_equal(history_check(h, "w", "a", 0, 1, 0, &v), HIST_UPDATED);
	assert_int_equal(v, 5);
	assert_int_equal(offer(h, "w", "{\"id\":\"a\",\"headline\":\"two\"}"),
	                 HIST_UPDATED);
	static const char *const want[] = {"\"headline\":\"two\"",
	                                   "\"version\":5", NULL};
	assert_snapshot_has(h, "w", want, 1);
	history_free(h);
}

static void
test_retract_removes(void **state)
{
	struct history *h = history_new(50);

	(void)state;
	offer(h, "w", "{\"id\":\"a\",\"headline\":\"doomed\"}");
	offer(h, "w", "{\"id\":\"b\",\"headline\":\"stays\"}");
	assert_int_equal(kill_item(h, "w", "a"), 1);
	assert_int_equal(kill_item(h, "w", "a"), 0);
	assert_int_equal(kill_item(h, "other", "b"), 0);
	assert_int_equal(history_count(h), 1);
	static const char *const gone[] = {"doomed", NULL};
	static const char *const kept[] = {"stays", NULL};
	assert_snapshot_has(h, NULL, gone, 0);
	assert_snapshot_has(h, NULL, kept, 1);
	history_free(h);
}

/* An item is (topic, id): the same id on two topics is two items. */
static void
test_same_id_on_two_topics(void **state)
{
	struct history *h = history_new(50);

	(void)state;
	assert_int_equal(offer(h, "a", "{\"id\":\"x\",\"headline\":\"on a\"}"),
	                 HIST_NEW);
	assert_int_equal(offer(h, "b", "{\"id\":\"x\",\"headline\":\"on b\"}"),
	                 HIST_NEW);
	assert_int_equal(offer(h, "b",
	                       "{\"id\":\"x\",\"headline\":\"b fixed\","
	                       "\"version\":2}"),
	                 HIST_UPDATED);
	assert_int_equal(history_count(h), 2);
	/* A kill on b takes b's item only, and again nothing. */
	assert_int_equal(kill_item(h, "b", "x"), 1);
	assert_int_equal(kill_item(h, "b", "x"), 0);
	static const char *const kept[] = {"\"headline\":\"on a\"", NULL};
	static const char *const gone[] = {"on b", "b fixed", NULL};
	assert_snapshot_has(h, NULL, kept, 1);
	assert_snapshot_has(h, NULL, gone, 0);
	assert_int_equal(kill_item(h, "a", "x"), 1);
	assert_int_equal(history_count(h), 0);
	history_free(h);
}

static void
test_cap_and_topic_filter(void **state)
{
	struct history *h = history_new(3);
	char payload[64], *s;

	(void)state;
	for (int i = 1; i <= 5; i++) {
		snprintf(payload, sizeof(payload), "world %d", i);
		offer(h, "world", payload);
		snprintf(payload, sizeof(payload), "sport %d", i);
		offer(h, "sport", payload);
	}
	assert_int_equal(history_count(h), 6);
	s = snapshot(h, "world");
	assert_null(strstr(s, "world 2"));
	assert_non_null(strstr(s, "world 3"));
	assert_non_null(strstr(s, "world 5"));
	assert_null(strstr(s, "sport"));
	assert_true(strstr(s, "world 3") < strstr(s, "world 5"));
	free(s);
	/* Across topics the snapshot is oldest first. */
	s = snapshot(h, "sport,world");
	assert_true(strstr(s, "world 3") < strstr(s, "sport 4"));
	assert_true(strstr(s, "sport 4") < strstr(s, "world 5"));
	assert_int_equal(strncmp(s,
	                         "{\"type\":\"snapshot\",\"seq\":null,"
	                         "\"items\":[{",
	                         40),
	                 0);
	free(s);
	s = snapshot(h, "nothing");
	assert_string_equal(s,
	                    "{\"type\":\"snapshot\",\"seq\":null,\"items\":[],"
	                    "\"resync\":false}");
	free(s);
	history_free(h);
}

/* The entry that last changed a set of topics' items: puts and kills. */
static void
test_changed_per_topic(void **state)
{
	struct history *h = history_new(2);
	struct topic_filter all, w, s, none;
	struct seq at;
	uint64_t w_put, w_kill;
	char why[64];

	(void)state;
	assert_int_equal(topic_filter_parse(&all, NULL, why, sizeof(why)), 0);
	assert_int_equal(topic_filter_parse(&w, "w", why, sizeof(why)), 0);
	assert_int_equal(topic_filter_parse(&s, "s", why, sizeof(why)), 0);
	assert_int_equal(topic_filter_parse(&none, "x", why, sizeof(why)), 0);
	assert_int_equal(history_changed(h, &all, &at), 0);
	offer(h, "w", "{\"id\":\"a\",\"headline\":\"one\"}");
	w_put = next_seq;
	offer(h, "s", "{\"id\":\"a\",\"headline\":\"sport\"}");
	assert_int_equal(history_changed(h, &w, &at), 1);
	CHECK_INT("w after its put", at.n, w_put);
	assert_int_equal(history_changed(h, &all, &at), 1);
	CHECK_INT("all after s's put", at.n, next_seq);
	assert_int_equal(history_changed(h, &none, &at), 0);
	/* A kill of what is not kept changes nothing; of what is, it does. */
	assert_int_equal(kill_item(h, "w", "nope"), 0);
	assert_int_equal(history_changed(h, &w, &at), 1);
	CHECK_INT("w after a kill of nothing", at.n, w_put);
	assert_int_equal(kill_item(h, "w", "a"), 1);
	w_kill = next_seq;
	assert_int_equal(history_changed(h, &w, &at), 1);
	CHECK_INT("w after its kill", at.n, w_kill);
	/* A correction changes its topic too. */
	offer(h, "s", "{\"id\":\"a\",\"headline\":\"fixed\"}");
	assert_int_equal(history_changed(h, &s, &at), 1);
	CHECK_INT("s after a correction", at.n, next_seq);
	assert_int_equal(history_changed(h, &w, &at), 1);
	CHECK_INT("w untouched by s", at.n, w_kill);
	/* Cleared (the log read anew): a new generation, no change kept. */
	CHECK_INT("generation", history_generation(h), 0);
	history_clear(h);
	CHECK_INT("generation after a clear", history_generation(h), 1);
	assert_int_equal(history_changed(h, &all, &at), 0);
	history_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_correction_replaces_in_place),
	    cmocka_unit_test(test_stale_and_duplicate_are_refused),
	    cmocka_unit_test(test_unversioned_update_increments),
	    cmocka_unit_test(test_retract_removes),
	    cmocka_unit_test(test_same_id_on_two_topics),
	    cmocka_unit_test(test_cap_and_topic_filter),
	    cmocka_unit_test(test_changed_per_topic),
	};
	return cmocka_run_group_tests_name("history", tests, NULL, NULL);
}
