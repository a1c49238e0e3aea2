/* test_fanout.c: the ring, audiences, catch-up, resync, culling and
 * broadcasts, with clients on fake connections whose socket takes as much
 * as a test says. */
#include "unit.h"

#include "fanout.h"
#include "message.h"
#include "metrics.h"
#include "seq.h"
#include "topics.h"

#include <stdio.h>

/*
 * A fake connection: its "socket" takes room bytes more (then refuses,
 * as a full one does), appending them to got; what it refuses the
 * fan-out has it keep (kept), to go out first when there is room again.
 */
struct fan_conn {
	unsigned char *got, *kept;
	size_t got_len, kept_len;
	size_t room;
	int wants;  /* WRITEABLE requests not yet answered */
	int closed; /* close_soon() was called */
	int unacked;
};

/* Append len bytes of p to *buf (*len bytes so far). */
static void
append(unsigned char **buf, size_t *len, const unsigned char *p, size_t n)
{
	if (!n)
		return;
	*buf = realloc(*buf, *len + n + 1);
	assert_non_null(*buf);
	if (n) /* p may be NULL then (nothing kept yet) */
		memcpy(*buf + *len, p, n);
	*len += n;
}

static ssize_t
fake_try(struct fan_conn *c, const unsigned char *p, size_t len)
{
	size_t n = len < c->room ? len : c->room;

	assert_int_equal(c->kept_len, 0); /* only when it holds nothing */
	append(&c->got, &c->got_len, p, n);
	c->room -= n;
	return (ssize_t)n;
}

static int
fake_keep(struct fan_conn *c, const unsigned char *p, size_t len)
{
	append(&c->kept, &c->kept_len, p, len);
	return 0;
}

static int
fake_holding(struct fan_conn *c)
{
	return c->kept_len > 0;
}

static void
fake_want_writeable(struct fan_conn *c)
{
	c->wants++;
}

static void
fake_close_soon(struct fan_conn *c)
{
	c->closed = 1;
}

static int
fake_unacked(struct fan_conn *c)
{
	return c->unacked;
}

static const struct fan_ops fake_ops = {
    .try_send = fake_try,
    .keep = fake_keep,
    .holding = fake_holding,
    .want_writeable = fake_want_writeable,
    .close_soon = fake_close_soon,
    .unacked = fake_unacked,
};

/* A client and its connection. */
struct peer {
	struct fan_client c;
	struct fan_conn conn;
};

/*
 * The socket takes room more bytes: what the connection kept goes first,
 * then, if it asked and holds nothing more, the fan-out gets WRITEABLE
 * (as many times as it asks again while there is room).
 */
static void
give_room(struct fan *f, struct peer *p, size_t room)
{
	struct fan_conn *c = &p->conn;
	size_t n;

	c->room += room;
	n = c->kept_len < c->room ? c->kept_len : c->room;
	if (n) {
		append(&c->got, &c->got_len, c->kept, n);
		memmove(c->kept, c->kept + n, c->kept_len - n);
		c->kept_len -= n;
		c->room -= n;
	}
	for (int calls = 0; c->wants && !c->kept_len && !c->closed && c->room;
	     calls++) {
		if (calls == 10000)
			fail_msg("WRITEABLE asked for again and again");
		c->wants--;
		assert_int_equal(fan_writeable(f, &p->c), 0);
	}
}

/* A filter for topics ("a,b"; NULL: all). */
static struct topic_filter
filter(const char *topics)
{
	struct topic_filter tf;
	char why[64];

	assert_int_equal(topic_filter_parse(&tf, topics, why, sizeof(why)), 0);
	return tf;
}

/* Attach p for topics, from ring position next, greeted with g0, g1. */
static void
join(struct fan *f, struct peer *p, const char *topics, uint64_t next,
     struct msg *g0, struct msg *g1)
{
	struct topic_filter tf = filter(topics);
	struct msg *first[2] = {g0, g1};

	memset(&p->conn, 0, sizeof(p->conn));
	assert_int_equal(
	    fan_attach(f, &p->c, &p->conn, FAN_WS, &tf, next, first), 0);
	assert_int_equal(fan_state_of(&p->c), FAN_PENDING);
}

/* Attach p as kind for topics from ring position next, greeted with g0. */
static void
join_kind(struct fan *f, struct peer *p, enum fan_kind kind, const char *topics,
          uint64_t next, struct msg *g0)
{
	struct topic_filter tf = filter(topics);
	struct msg *first[2] = {g0, NULL};

	memset(&p->conn, 0, sizeof(p->conn));
	assert_int_equal(fan_attach(f, &p->c, &p->conn, kind, &tf, next, first),
	                 0);
}

/* Attach p with nothing to greet it with, and let it catch up. */
static void
join_idle(struct fan *f, struct peer *p, const char *topics, size_t room)
{
	join(f, p, topics, fan_head(f) + 1, NULL, NULL);
	assert_int_equal(fan_writeable(f, &p->c), 0); /* its first */
	assert_int_equal(fan_state_of(&p->c), FAN_IDLE);
	assert_int_equal(p->conn.wants, 0);
	p->conn.room = room;
}

static uint64_t seq_n;

/* A message on topic whose id is id (a retraction: it has both). */
static struct msg *
message(const char *topic, const char *id)
{
	struct seq s = {.ms = 1000, .n = ++seq_n};
	struct msg *m = msg_new_retract(id, topic, s);

	assert_non_null(m);
	return m;
}

/* Publish a message on topic with id id. */
static void
publish(struct fan *f, const char *topic, const char *id)
{
	struct msg *m = message(topic, id);

	fan_publish(f, m);
	msg_unref(m);
}

/* A message whose id is n bytes of c, so its frame is over n bytes. */
static struct msg *
big_message(const char *topic, size_t n, char c)
{
	char *id = malloc(n + 1);
	struct msg *m;

	assert_non_null(id);
	memset(id, c, n);
	id[n] = '\0';
	m = message(topic, id);
	free(id);
	return m;
}

/*
 * What p was sent, one line per message, read back from the WebSocket
 * frames it got (continuation frames joined): its id, or "<type>" when
 * it has none, ids over 20 bytes as "<c x n>".  The caller frees it.
 */
static char *
received(const struct peer *p)
{
	const unsigned char *b = p->conn.got, *end = b;
	unsigned char *msg = NULL;
	size_t msg_len = 0, out_len = 0;
	char *out = calloc(1, 1);

	if (b)
		end = b + p->conn.got_len;
	while (b < end) {
		size_t len = b[1] & 0x7f, h = 2;
		int fin = b[0] & 0x80;

		assert_int_equal(b[1] & 0x80, 0); /* servers never mask */
		if (len == 126) {
			len = (size_t)b[2] << 8 | b[3];
			h = 4;
		} else if (len == 127) {
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | b[2 + i];
			h = 10;
		}
		assert_true(b + h + len <= end); /* only whole frames */
		append(&msg, &msg_len, b + h, len);
		b += h + len;
		if (!fin)
			continue;
		msg[msg_len] = '\0';
		{
			char line[64];
			const char *id = strstr((char *)msg, "\"id\":\"");
			const char *type = strstr((char *)msg, "\"type\":\"");
			size_t n;

			if (id) {
				id += 6;
				n = strcspn(id, "\"");
				if (n > 20)
					snprintf(line, sizeof(line),
					         "<%c x %zu>\n", *id, n);
				else
					snprintf(line, sizeof(line), "%.*s\n",
					         (int)n, id);
			} else {
				assert_non_null(type);
				type += 8;
				snprintf(line, sizeof(line), "<%.*s>\n",
				         (int)strcspn(type, "\""), type);
			}
			out = realloc(out, out_len + strlen(line) + 1);
			assert_non_null(out);
			strcpy(out + out_len, line);
			out_len += strlen(line);
		}
		msg_len = 0;
	}
	free(msg);
	return out;
}

/* Assert p was sent exactly want (lines as received() writes them). */
static void
assert_received(const struct peer *p, const char *want)
{
	char *got = received(p);

	if (strcmp(got, want))
		fail_msg("received:\n%s\nwanted:\n%s", got, want);
	free(got);
}

static void
leave(struct fan *f, struct peer *p)
{
	fan_detach(f, &p->c);
	free(p->conn.got);
	free(p->conn.kept);
}

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

		fan_resync(f, same_snapshot, snap);
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
	/* The ring before the gap can't be resumed from any more. */
	assert_int_equal(fan_find(f, &(struct seq){.ms = 1000, .n = 1}), 0);
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
	    cmocka_unit_test(test_wrap_around_at_capacity),
	    cmocka_unit_test(test_wrap_in_one_turn_culls),
	    cmocka_unit_test(test_exactly_one_ring_behind),
	    cmocka_unit_test(test_partial_writes_keep_order),
	    cmocka_unit_test(test_resync_while_pending),
	    cmocka_unit_test(test_filter_that_matches_nothing),
	    cmocka_unit_test(test_stalled_client_is_culled),
	    cmocka_unit_test(test_state_transitions),
	    cmocka_unit_test(test_broadcast_reaches_everyone),
	    cmocka_unit_test(test_broadcast_newest_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
