/* fanout_fake.h: what the fan-out's unit tests share: connections whose
 * socket takes as many bytes as a test says, clients on them, messages,
 * and what a client was sent, read back from its frames. */
#ifndef TICKERD_TEST_FANOUT_FAKE_H
#define TICKERD_TEST_FANOUT_FAKE_H

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
static inline void
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

static inline ssize_t
fake_try(struct fan_conn *c, const unsigned char *p, size_t len)
{
	size_t n = len < c->room ? len : c->room;

	assert_int_equal(c->kept_len, 0); /* only when it holds nothing */
	append(&c->got, &c->got_len, p, n);
	c->room -= n;
	return (ssize_t)n;
}

static inline int
fake_keep(struct fan_conn *c, const unsigned char *p, size_t len)
{
	append(&c->kept, &c->kept_len, p, len);
	return 0;
}

static inline int
fake_holding(struct fan_conn *c)
{
	return c->kept_len > 0;
}

static inline void
fake_want_writeable(struct fan_conn *c)
{
	c->wants++;
}

static inline void
fake_close_soon(struct fan_conn *c)
{
	c->closed = 1;
}

static inline int
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
static inline void
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
static inline struct topic_filter
filter(const char *topics)
{
	struct topic_filter tf;
	char why[64];

	assert_int_equal(topic_filter_parse(&tf, topics, why, sizeof(why)), 0);
	return tf;
}

/* Attach p for topics, from ring position next, greeted with g0, g1. */
static inline void
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
static inline void
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
static inline void
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
static inline struct msg *
message(const char *topic, const char *id)
{
	struct seq s = {.ms = 1000, .n = ++seq_n};
	struct msg *m = msg_new_retract(id, topic, s);

	assert_non_null(m);
	return m;
}

/* Publish a message on topic with id id. */
static inline void
publish(struct fan *f, const char *topic, const char *id)
{
	struct msg *m = message(topic, id);

	fan_publish(f, m);
	msg_unref(m);
}

/* A message whose id is n bytes of c, so its frame is over n bytes. */
static inline struct msg *
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
static inline char *
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
static inline void
assert_received(const struct peer *p, const char *want)
{
	char *got = received(p);

	if (strcmp(got, want))
		fail_msg("received:\n%s\nwanted:\n%s", got, want);
	free(got);
}

static inline void
leave(struct fan *f, struct peer *p)
{
	fan_detach(f, &p->c);
	free(p->conn.got);
	free(p->conn.kept);
}

#endif
