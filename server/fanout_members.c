/* fanout_members.c: a client's membership of an audience (clients that
 * chose the same topics) and its state, with the transitions between
 * states; the snapshot newcomers of an audience share. */
#include "fanout_private.h"

#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The list of a's members that c belongs in: idle or pending. */
static struct fan_client **
list_of(struct fan_client *c)
{
	return c->state == FAN_IDLE ? &c->aud->idle : &c->aud->pending;
}

static void
list_unlink(struct fan_client *c)
{
	if (c->prev)
		c->prev->link = c->link;
	else
		*list_of(c) = c->link;
	if (c->link)
		c->link->prev = c->prev;
	c->prev = c->link = NULL;
}

static void
list_push(struct fan_client *c)
{
	struct fan_client **head = list_of(c);

	c->prev = NULL;
	c->link = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

/* Move c to state to, and to the list of its audience it now belongs in. */
static void
move_to(struct fan_client *c, enum fan_state to)
{
	if (c->state == to)
		return;
	list_unlink(c);
	c->state = to;
	list_push(c);
}

/* PENDING -> IDLE: c is caught up: from now on fan_flush() writes to it. */
void
fan_idle_add(struct fan_client *c)
{
	if (c->state == FAN_PENDING)
		move_to(c, FAN_IDLE);
}

/* IDLE -> PENDING: c is not caught up any more: it catches up from
 * WRITEABLE. */
void
fan_idle_remove(struct fan_client *c)
{
	if (c->state == FAN_IDLE)
		move_to(c, FAN_PENDING);
}

/*
 * A new member of a is greeted with *snap: if it is byte for byte the
 * snapshot the previous newcomer got (nothing happened in between, as when
 * many connect at once), it is dropped for that one, which a keeps.  A
 * resync snapshot (for one that resumed from a point not held) is not kept:
 * a newcomer must not be told "resync".
 */
static void
share_greeting(const struct fan *f, struct fan_audience *a, struct msg **snap)
{
	struct msg *g = a->greeting, *m = *snap;

	if (!m || m->resync)
		return;
	if (g && g->frame_len == m->frame_len &&
	    !memcmp(g->frame, m->frame, m->frame_len)) {
		msg_unref(m);
		*snap = msg_ref(g);
		return;
	}
	msg_unref(g);
	a->greeting = msg_ref(m);
	a->greeting_at = f->head;
}

struct msg *
fan_snapshot(const struct fan *f, const struct topic_filter *filter)
{
	for (struct fan_audience *a = f->audiences; a; a = a->next)
		if (topic_filter_equal(&a->filter, filter))
			return a->greeting && a->greeting_at == f->head
			           ? msg_ref(a->greeting)
			           : NULL;
	return NULL;
}

int
fan_attach(struct fan *f, struct fan_client *c, struct fan_conn *conn,
           enum fan_kind kind, const struct topic_filter *filter, uint64_t next,
           struct msg *first[2])
{
	struct fan_audience *a;

	for (a = f->audiences; a; a = a->next)
		if (topic_filter_equal(&a->filter, filter))
			break;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a) {
			msg_unref(first[0]);
			msg_unref(first[1]);
			return -1;
		}
		a->filter = *filter;
		a->next = f->audiences;
		if (f->audiences)
			f->audiences->prev = a;
		f->audiences = a;
	}
	share_greeting(f, a, &first[1]);
	memset(c, 0, sizeof(*c));
	c->conn = conn;
	c->state = FAN_PENDING;
	c->aud = a;
	c->kind = kind;
	c->next = next;
	c->first[0] = first[0];
	c->first[1] = first[1];
	a->members++;
	list_push(c); /* pending */
	return 0;
}

void
fan_detach(struct fan *f, struct fan_client *c)
{
	struct fan_audience *a = c->aud;

	if (!a)
		return;
	list_unlink(c);
	for (int i = 0; i < 2; i++) {
		msg_unref(c->first[i]);
		c->first[i] = NULL;
	}
	if (!--a->members) {
		msg_unref(a->greeting);
		if (a->prev)
			a->prev->next = a->next;
		else
			f->audiences = a->next;
		if (a->next)
			a->next->prev = a->prev;
		free(a);
	}
	c->aud = NULL;
}

int
fan_regroup(struct fan *f, struct fan_client *c,
            const struct topic_filter *filter, struct msg *first[2])
{
	struct fan_client was = *c;
	uint64_t next;

	if (!c->aud || (c->state != FAN_PENDING && c->state != FAN_IDLE) ||
	    c->first[0] || c->off) {
		msg_unref(first[0]);
		msg_unref(first[1]);
		return 1;
	}
	fan_flush(f); /* an idle client now has everything to the head */
	next = c->state == FAN_IDLE ? f->head + 1 : c->next;
	if (first[1])
		next = f->head + 1; /* a snapshot of the new set, from now on */
	else if (c->first[1])
		first[1] = msg_ref(c->first[1]); /* its snapshot still to go */
	fan_detach(f, c);
	if (fan_attach(f, c, was.conn, (enum fan_kind)was.kind, filter, next,
	               first)) {
		c->state = FAN_DEAD;
		fan_kill(f, c);
		return -1;
	}
	c->heard = was.heard;
	c->pinged = was.pinged;
	c->unsent = was.unsent;
	c->queued = was.queued;
	c->stalls = was.stalls;
	c->took = was.took;
	c->feed = was.feed;
	f->ops->want_writeable(c->conn);
	return 0;
}

void
fan_retire(struct fan_client *c)
{
	if (c->aud)
		move_to(c, FAN_DEAD);
	else
		c->state = FAN_DEAD;
}

void
fan_kill(struct fan *f, struct fan_client *c)
{
	fan_retire(c);
	f->ops->close_soon(c->conn);
}

void
fan_close(struct fan *f, struct fan_client *c)
{
	if (c->state != FAN_PENDING && c->state != FAN_IDLE)
		return;
	move_to(c, FAN_CLOSING);
	f->ops->want_writeable(c->conn);
}

void
fan_foreach(struct fan *f, void (*fn)(struct fan_client *c, void *arg),
            void *arg)
{
	struct fan_audience *a, *next_a;
	struct fan_client *c, *next;

	/* Pending first: fn may make an idle client pending (never the other
	 * way), and then it is not seen twice. */
	for (a = f->audiences; a; a = next_a) {
		next_a = a->next;
		for (c = a->pending; c; c = next) {
			next = c->link;
			fn(c, arg);
		}
		for (c = a->idle; c; c = next) {
			next = c->link;
			fn(c, arg);
		}
	}
}

const struct topic_filter *
fan_filter_of(const struct fan_client *c)
{
	return &c->aud->filter;
}

/* Add n readers of topic to out, in its place (by name). */
static void
count_readers(struct fan_readers *out, const char *topic, unsigned n)
{
	unsigned lo = 0, hi = out->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		int c = strcmp(out->at[mid].topic, topic);

		if (!c) {
			out->at[mid].readers += n;
			return;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (out->n == FAN_READER_TOPICS) {
		out->other += n;
		return;
	}
	memmove(&out->at[lo + 1], &out->at[lo],
	        (out->n - lo) * sizeof(out->at[0]));
	snprintf(out->at[lo].topic, sizeof(out->at[lo].topic), "%s", topic);
	out->at[lo].readers = n;
	out->n++;
}

void
fan_readers(const struct fan *f, struct fan_readers *out)
{
	memset(out, 0, sizeof(*out));
	for (const struct fan_audience *a = f->audiences; a; a = a->next) {
		if (!a->filter.count)
			out->all += a->members;
		for (int i = 0; i < a->filter.count; i++)
			if (topic_filter_match(&a->filter, a->filter.names[i]))
				count_readers(out, a->filter.names[i],
				              a->members); /* not: locked */
	}
}
