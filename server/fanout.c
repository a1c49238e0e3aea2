/* fanout.c: delivering each encoded message to every client that wants it. */
#include "fanout_private.h"

#include "message.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

struct fan *
fan_new(unsigned capacity, const struct fan_ops *ops)
{
	struct fan *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ops = ops;
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
	for (int k = 0; k < FAN_KINDS; k++) {
		free(f->batch[k].p);
		free(f->ends[k]);
	}
	free(f->scratch.p);
	msg_unref(f->feed);
	free(f);
}

/* The oldest position still in the ring. */
uint64_t
fan_ring_tail(const struct fan *f)
{
	uint64_t tail = f->head >= f->capacity ? f->head - f->capacity + 1 : 1;

	return tail > f->floor ? tail : f->floor;
}

const struct seq *
fan_resync_point(const struct fan *f)
{
	return f->has_floor_seq ? &f->floor_seq : NULL;
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
	/* What the last resync snapshot stood for, while it is in reach. */
	if (f->has_floor_seq && !seq_cmp(*s, f->floor_seq) && f->floor > 1 &&
	    f->floor >= fan_ring_tail(f) &&
	    (f->head < f->capacity || f->head - f->capacity + 1 < f->floor))
		return f->floor - 1;
	/* Positions tail..head hold increasing seqs: binary search. */
	lo = fan_ring_tail(f);
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

uint64_t
fan_find_time(const struct fan *f, uint64_t ms)
{
	uint64_t lo = fan_ring_tail(f), hi = f->head, found = 0;

	/* The oldest held must be no later than ms: else older ones that
	 * came after ms may be gone. */
	if (!f->head || lo > hi || f->ring[lo % f->capacity]->seq.ms > ms)
		return 0;
	while (lo <= hi) { /* the last position logged at or before ms */
		uint64_t mid = lo + (hi - lo) / 2;

		if (f->ring[mid % f->capacity]->seq.ms <= ms) {
			found = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return found;
}

uint64_t
fan_after(const struct fan *f, const struct seq *s)
{
	uint64_t lo = fan_ring_tail(f), hi = f->head, found = f->head + 1;

	if (!s)
		return lo;
	while (lo <= hi && hi) { /* the first position with a later seq */
		uint64_t mid = lo + (hi - lo) / 2;

		if (seq_cmp(f->ring[mid % f->capacity]->seq, *s) > 0) {
			found = mid;
			hi = mid - 1;
		} else {
			lo = mid + 1;
		}
	}
	return found;
}

uint64_t
fan_count(const struct fan *f, const struct topic_filter *filter, uint64_t from,
          uint64_t *first_ms)
{
	uint64_t pos = from > fan_ring_tail(f) ? from : fan_ring_tail(f);
	uint64_t n = 0;

	for (; pos <= f->head; pos++) {
		struct msg *m = f->ring[pos % f->capacity];

		if (!m->topic || !topic_filter_match(filter, m->topic))
			continue;
		if (!n++ && !*first_ms)
			*first_ms = m->seq.ms;
	}
	return n;
}

/* m's bytes on the wire for a client written to as kind (NULL: ENOMEM):
 * a deflated kind's made once per message (deflate.c). */
unsigned char *
fan_wire_bytes(struct msg *m, enum fan_kind kind, size_t *len)
{
	if (kind == FAN_SSE)
		return msg_sse(m, len);
	if (kind >= FAN_WSZ)
		return deflate_frame(m, fan_kind_bits(kind), len);
	return msg_frame(m, len);
}

/* The payload of m's frame for a WebSocket kind (for pieces), and whether
 * it is compressed (*rsv1); NULL on ENOMEM. */
unsigned char *
fan_ws_payload(struct msg *m, enum fan_kind kind, size_t *len, int *rsv1)
{
	if (kind >= FAN_WSZ)
		return deflate_payload(m, fan_kind_bits(kind), len, rsv1);
	*rsv1 = 0;
	*len = m->len;
	return msg_payload(m);
}

/*
 * Have c's connection keep len bytes, which it sends after anything it
 * still holds, and count them in c->unsent until it is seen to have sent
 * everything (it may have at once).  0, or -1 if it refused.
 */
static int
keep(struct fan *f, struct fan_client *c, unsigned char *p, size_t len)
{
	if (f->ops->keep(c->conn, p, len))
		return -1;
	if (f->ops->holding(c->conn))
		c->unsent += (uint32_t)len;
	else
		c->unsent = 0;
	return 0;
}

/*
 * Write len ready bytes to c in one write: what the socket takes now goes
 * at once (when its connection holds nothing: clear says the caller has
 * just checked), the connection keeps the rest and sends it first.  On
 * failure c is killed; -1.
 */
int
fan_write_out(struct fan *f, struct fan_client *c, unsigned char *p, size_t len,
              int clear)
{
	ssize_t n = 0;

	if (!p)
		goto fail;
	if (clear || !f->ops->holding(c->conn)) {
		c->unsent = 0; /* it has sent all it kept */
		n = f->ops->try_send(c->conn, p, len);
		if (n < 0)
			goto fail;
	}
	if ((size_t)n < len && keep(f, c, p + n, len - (size_t)n))
		goto fail;
	return 0;
fail:
	fan_kill(f, c);
	return -1;
}

/* Make sure b holds len bytes; 0 or -1 (ENOMEM). */
int
fan_buf_reserve(struct fan_buf *b, size_t len)
{
	unsigned char *p;

	size_t cap = b->cap ? b->cap : 4096;

	if (b->cap >= len)
		return 0;
	while (cap < len) /* doubling: a burst grows it a few times only */
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

/*
 * The next message from ring position *pos to the head that filter takes
 * (*pos is left on it), or NULL when there is none.
 */
static struct msg *
next_match(const struct fan *f, const struct topic_filter *filter,
           uint64_t *pos)
{
	for (; *pos <= f->head; ++*pos) {
		struct msg *m = f->ring[*pos % f->capacity];

		if (topic_filter_match(filter, m->topic))
			return m;
	}
	return NULL;
}

/* c can't take the batch now: it catches up from position from itself. */
static void
make_pending(struct fan *f, struct fan_client *c, uint64_t from)
{
	fan_idle_remove(c);
	c->next = from;
	f->ops->want_writeable(c->conn);
}

/* Make room for n message ends of kind; 0 or -1 (ENOMEM). */
static int
ends_reserve(struct fan *f, int kind, size_t n)
{
	struct fan_end *e;

	size_t cap = f->ends_cap[kind] ? f->ends_cap[kind] : 256;

	if (f->ends_cap[kind] >= n)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(f->ends[kind], cap * sizeof(*e));
	if (!e)
		return -1;
	f->ends[kind] = e;
	f->ends_cap[kind] = cap;
	return 0;
}

/*
 * The bytes every idle member of audience a written to as kind needs:
 * the messages from ring position from to the head that match its topics,
 * built once and shared by all of them, with where each one ends.  One
 * message is sent from its own buffer; several are copied back to back
 * into f->batch[kind].
 */
static void
build_batch(struct fan *f, struct fan_audience *a, enum fan_kind kind,
            uint64_t from, struct fan_batch *b)
{
	size_t total = 0, len;
	unsigned char *p;
	struct msg *m;
	uint64_t pos;

	b->built = 1;
	for (pos = from; (m = next_match(f, &a->filter, &pos)); pos++) {
		p = fan_wire_bytes(m, kind, &len);
		if (!p || ends_reserve(f, kind, b->count + 1)) {
			b->failed = 1;
			return;
		}
		if (!b->count) {
			b->p = p;
			b->len = len;
		}
		total += len;
		f->ends[kind][b->count].end = total;
		f->ends[kind][b->count++].pos = pos;
	}
	b->ends = f->ends[kind];
	if (b->count < 2)
		return;
	if (fan_buf_reserve(&f->batch[kind], total)) {
		b->failed = 1;
		return;
	}
	b->p = f->batch[kind].p;
	b->len = 0;
	for (unsigned i = 0; i < b->count; i++) {
		p = fan_wire_bytes(f->ring[b->ends[i].pos % f->capacity], kind,
		                   &len);
		memcpy(b->p + b->len, p, len);
		b->len += len;
	}
}

/*
 * Send batch b to c, whose connection holds nothing: as much as its socket
 * takes now.  A message the socket took part of, the connection keeps the
 * rest of; c catches up from WRITEABLE from the first message it did not
 * get at all.  Nothing is copied for a client that is behind.
 */
static void
send_batch(struct fan *f, struct fan_client *c, const struct fan_batch *b)
{
	ssize_t n = f->ops->try_send(c->conn, b->p, b->len);
	unsigned lo = 0, hi = b->count;

	if (n < 0) {
		fan_kill(f, c);
		return;
	}
	metrics.writes++;
	if ((size_t)n == b->len) {
		metrics.deliveries += b->count;
		return;
	}
	/* The first message not wholly sent: ends[lo].end > n. */
	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (b->ends[mid].end > (size_t)n)
			hi = mid;
		else
			lo = mid + 1;
	}
	if ((size_t)n > (lo ? b->ends[lo - 1].end : 0)) {
		if (keep(f, c, b->p + n, b->ends[lo].end - (size_t)n)) {
			fan_kill(f, c);
			return;
		}
		lo++;
	}
	metrics.deliveries += lo;
	if (lo < b->count)
		make_pending(f, c, b->ends[lo].pos);
}

void
fan_publish(struct fan *f, struct msg *m)
{
	unsigned slot;

	m->pos = ++f->head;
	slot = (unsigned)(m->pos % f->capacity);
	msg_unref(f->ring[slot]);
	f->ring[slot] = msg_ref(m);
}

void
fan_flush(struct fan *f)
{
	uint64_t from = f->flushed + 1;
	struct fan_client *c, *next;

	if (f->flushed == f->head)
		return;
	if (f->head - f->flushed > f->capacity) {
		/* Wrapped in one turn: every idle client is behind now. */
		for (struct fan_audience *a = f->audiences; a; a = a->next)
			while (a->idle)
				make_pending(f, a->idle, from);
		f->flushed = f->head;
		return;
	}
	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		struct fan_batch b[FAN_KINDS];

		if (!a->idle)
			continue;
		memset(b, 0, sizeof(b));
		for (c = a->idle; c; c = next) {
			struct fan_batch *kb = &b[c->kind];

			next = c->link;
			if (!kb->built)
				build_batch(f, a, (enum fan_kind)c->kind, from,
				            kb);
			if (!kb->count)
				continue; /* nothing for these topics */
			if (kb->failed) {
				fan_kill(f, c);
				continue;
			}
			if (f->ops->holding(c->conn)) {
				make_pending(f, c, from);
				continue;
			}
			c->unsent = 0; /* it has sent all it kept */
			send_batch(f, c, kb);
		}
	}
	f->flushed = f->head;
}

void
fan_broadcast(struct fan *f, struct msg *m)
{
	struct fan_client *c, *next;
	unsigned char *p;
	size_t len;

	msg_unref(f->feed);
	f->feed = msg_ref(m);
	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		/* Behind: after its greeting, in its next catch-up write. */
		for (c = a->pending; c; c = c->link)
			if (c->state == FAN_PENDING) {
				c->feed = 1;
				f->ops->want_writeable(c->conn);
			}
		/* Caught up: between two whole messages, so now. */
		for (c = a->idle; c; c = next) {
			next = c->link;
			p = fan_wire_bytes(m, (enum fan_kind)c->kind, &len);
			if (fan_write_out(f, c, p, len, 0))
				continue; /* killed */
			metrics.deliveries++;
			metrics.writes++;
		}
	}
}

int
fan_send_raw(struct fan *f, struct fan_client *c, const unsigned char *bytes,
             size_t len)
{
	unsigned char buf[16];

	/* Frames only ever go out whole: between two, a control frame fits
	 * (also between two pieces of a greeting); an event does not. */
	if ((c->state != FAN_PENDING && c->state != FAN_IDLE) ||
	    len > sizeof(buf) || f->ops->holding(c->conn) ||
	    (c->kind == FAN_SSE && c->off))
		return -1;
	memcpy(buf, bytes, len);
	return fan_write_out(f, c, buf, len, 1);
}

void
fan_resync(struct fan *f, const struct seq *at,
           struct msg *(*snapshot_for)(void *arg,
                                       const struct topic_filter *filter),
           void *arg)
{
	struct fan_audience *a;
	struct msg *newest;

	fan_flush(f);         /* what came before the gap is good */
	fan_sweep_some(f, 0); /* those already behind go, as they would have */
	f->floor = f->head + 1;
	newest = fan_newest(f);
	f->has_floor_seq = at || newest;
	if (f->has_floor_seq)
		f->floor_seq = at ? *at : newest->seq;
	for (a = f->audiences; a; a = a->next)
		a->resync = snapshot_for(arg, &a->filter);
	for (a = f->audiences; a; a = a->next) {
		struct fan_client *c, *next;

		while (a->idle) /* all pending: the snapshot comes first */
			fan_idle_remove(a->idle);
		for (c = a->pending; c; c = next) {
			next = c->link;
			if (c->state != FAN_PENDING || !a->resync)
				continue;
			/* A greeting under way is finished first (its pieces
			 * must stay together), an unsent hello still goes
			 * first; the snapshot is new. */
			if (c->off && !c->first[0]) {
				c->first[0] = c->first[1];
				c->first[1] = NULL;
			}
			msg_unref(c->first[1]);
			c->first[1] = msg_ref(c->aud->resync);
			c->next = f->head + 1;
			f->ops->want_writeable(c->conn);
		}
	}
	for (a = f->audiences; a; a = a->next) {
		msg_unref(a->resync);
		a->resync = NULL;
	}
}
