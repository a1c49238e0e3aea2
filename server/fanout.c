/* fanout.c: delivering each encoded message to every client that wants it. */
#include "fanout.h"

#include "log.h"
#include "message.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

/*
 * Clients that chose the same topics share an audience, so a delivery
 * looks at each audience once and at the idle clients of matching ones
 * only.  Lives while it has members.
 */
struct fan_audience {
	struct fan_audience *prev, *next;
	struct topic_filter filter;
	struct msg *resync; /* only while fan_resync() runs */
	unsigned members;
	struct fan_client *idle; /* caught-up members, in no order */
};

struct fan {
	struct msg **ring; /* ring[position % capacity] */
	unsigned capacity;
	uint64_t head;  /* newest position in the ring; 0 = empty */
	uint64_t floor; /* positions below it can't be resumed from */
	struct fan_audience *audiences;
	struct fan_client *all;
};

struct fan *
fan_new(unsigned capacity)
{
	struct fan *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->capacity = capacity ? capacity : 1;
	f->ring = calloc(f->capacity, sizeof(*f->ring));
	if (!f->ring) {
		free(f);
		return NULL;
	}
	return f;
}

void
fan_free(struct fan *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < f->capacity; i++)
		msg_unref(f->ring[i]);
	free(f->ring);
	free(f);
}

/* The oldest position still in the ring. */
static uint64_t
ring_tail(const struct fan *f)
{
	uint64_t tail = f->head >= f->capacity ? f->head - f->capacity + 1 : 1;

	return tail > f->floor ? tail : f->floor;
}

uint64_t
fan_head(const struct fan *f)
{
	return f->head;
}

uint64_t
fan_used(const struct fan *f)
{
	return f->head < f->capacity ? f->head : f->capacity;
}

uint64_t
fan_capacity(const struct fan *f)
{
	return f->capacity;
}

struct msg *
fan_newest(const struct fan *f)
{
	return f->head ? f->ring[f->head % f->capacity] : NULL;
}

uint64_t
fan_find(const struct fan *f, const struct seq *s)
{
	uint64_t lo, hi;

	if (!f->head)
		return 0;
	/* Positions tail..head hold increasing seqs: binary search. */
	lo = ring_tail(f);
	hi = f->head;
	while (lo <= hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		int c = seq_cmp(f->ring[mid % f->capacity]->seq, *s);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

static void
idle_add(struct fan_client *c)
{
	struct fan_audience *a = c->aud;

	c->idle = 1;
	c->idle_prev = NULL;
	c->idle_next = a->idle;
	if (a->idle)
		a->idle->idle_prev = c;
	a->idle = c;
}

static void
idle_remove(struct fan_client *c)
{
	if (!c->idle)
		return;
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		c->aud->idle = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	c->idle = 0;
	c->idle_prev = c->idle_next = NULL;
}

int
fan_attach(struct fan *f, struct fan_client *c, struct lws *wsi,
           enum fan_kind kind, const struct topic_filter *filter, uint64_t next)
{
	struct fan_audience *a;

	for (a = f->audiences; a; a = a->next)
		if (topic_filter_equal(&a->filter, filter))
			break;
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return -1;
		a->filter = *filter;
		a->next = f->audiences;
		if (f->audiences)
			f->audiences->prev = a;
		f->audiences = a;
	}
	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	c->aud = a;
	c->kind = kind;
	c->next = next;
	a->members++;
	c->all_next = f->all;
	if (f->all)
		f->all->all_prev = c;
	f->all = c;
	return 0;
}

void
fan_detach(struct fan *f, struct fan_client *c)
{
	struct fan_audience *a = c->aud;

	if (!a)
		return;
	idle_remove(c);
	msg_unref(c->urgent);
	c->urgent = NULL;
	if (c->all_prev)
		c->all_prev->all_next = c->all_next;
	else
		f->all = c->all_next;
	if (c->all_next)
		c->all_next->all_prev = c->all_prev;
	if (!--a->members) {
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
fan_write(struct fan_client *c, struct msg *m)
{
	unsigned char *p = msg_payload(m);
	size_t len = m->len;
	enum lws_write_protocol how = LWS_WRITE_TEXT;

	if (c->kind == FAN_SSE) {
		p = msg_sse(m, &len);
		how = LWS_WRITE_HTTP;
	}
	if (!p || lws_write(c->wsi, p, len, how) < (int)len) {
		c->dead = 1;
		idle_remove(c);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
		                LWS_TO_KILL_ASYNC);
		return -1;
	}
	metrics.deliveries++;
	return 0;
}

void
fan_publish(struct fan *f, struct msg *m)
{
	struct fan_client *c, *next;
	unsigned slot;

	m->pos = ++f->head;
	slot = (unsigned)(m->pos % f->capacity);
	msg_unref(f->ring[slot]);
	f->ring[slot] = msg_ref(m);

	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		if (!topic_filter_match(&a->filter, m->topic))
			continue;
		for (c = a->idle; c; c = next) {
			next = c->idle_next;
			if (lws_partial_buffered(c->wsi)) {
				/* Still flushing: catch up from the ring. */
				idle_remove(c);
				c->next = m->pos;
				lws_callback_on_writable(c->wsi);
				continue;
			}
			fan_write(c, m);
		}
	}
}

/* Cull c if it fell behind the ring; 1 if it did. */
static int
cull_if_behind(struct fan *f, struct fan_client *c)
{
	if (c->dead || c->idle || c->next >= ring_tail(f))
		return 0;
	log_notice("culling a client %llu messages behind",
	           (unsigned long long)(f->head - c->next + 1));
	metrics.culled++;
	c->dead = 1;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
	                LWS_TO_KILL_ASYNC);
	return 1;
}

void
fan_sweep(struct fan *f)
{
	for (struct fan_client *c = f->all; c; c = c->all_next)
		cull_if_behind(f, c);
}

int
fan_writeable(struct fan *f, struct fan_client *c)
{
	if (c->dead || c->idle)
		return 0;
	if (c->urgent) {
		struct msg *m = c->urgent;

		c->urgent = NULL;
		if (fan_write(c, m)) {
			msg_unref(m);
			return -1;
		}
		msg_unref(m);
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (cull_if_behind(f, c))
		return 0;
	while (c->next <= f->head) {
		struct msg *m = f->ring[c->next % f->capacity];

		c->next++;
		if (!topic_filter_match(&c->aud->filter, m->topic))
			continue;
		if (fan_write(c, m))
			return -1;
		if (c->next <= f->head) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
		break;
	}
	idle_add(c);
	return 0;
}

void
fan_foreach(struct fan *f, void (*fn)(struct fan_client *c, void *arg),
            void *arg)
{
	struct fan_client *c, *next;

	for (c = f->all; c; c = next) {
		next = c->all_next;
		fn(c, arg);
	}
}

void
fan_resync(struct fan *f,
           struct msg *(*snapshot_for)(void *arg,
                                       const struct topic_filter *filter),
           void *arg)
{
	struct fan_audience *a;

	fan_sweep(f); /* those already behind go, as they would have */
	f->floor = f->head + 1;
	for (a = f->audiences; a; a = a->next)
		a->resync = snapshot_for(arg, &a->filter);
	for (struct fan_client *c = f->all; c; c = c->all_next) {
		if (c->dead || c->closing || !c->aud->resync)
			continue;
		msg_unref(c->urgent);
		c->urgent = msg_ref(c->aud->resync);
		c->next = f->head + 1;
		idle_remove(c);
		lws_callback_on_writable(c->wsi);
	}
	for (a = f->audiences; a; a = a->next) {
		msg_unref(a->resync);
		a->resync = NULL;
	}
}
