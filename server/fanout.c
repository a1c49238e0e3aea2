/* fanout.c: delivering each encoded message to every client that wants it. */
#include "fanout.h"

#include "log.h"
#include "message.h"
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* One write carries at most this many bytes, or messages, unless a single
 * message is bigger. */
#define FAN_BATCH_MAX  (256 * 1024)
#define FAN_PIECES_MAX 512

/*
 * A greeting message (a snapshot) longer than this is written in pieces of
 * this size, a WebSocket one as a fragmented message (continuation frames,
 * between which a ping or a close frame may go), cut at the same places
 * for every client.  Items are never cut (their frames stay under 128 KB).
 */
#define FAN_PIECE   (64 * 1024)
#define FAN_HEADERS (FAN_BATCH_MAX / FAN_PIECE + 2) /* per write, at most */

/*
 * What a client may be owed and not take: the bytes handed to lws and not
 * yet seen sent (fan_client.unsent), plus the rest of its greeting.  lws
 * is only handed what the socket refused of one write (at most 256 KiB, or
 * the tail of one message), and a pending client is written to only once
 * lws has sent that (should WRITEABLE come earlier, more is appended only
 * within this bound), so once greeted a client never comes near 1 MiB:
 * four such writes, or eight of the largest item frames.  One owed more (a
 * greeting of several MB) that takes none of it, FAN_STALL_SWEEPS sweeps
 * in a row, a second apart (no WRITEABLE, and its socket's queue no
 * shorter: a slow reader shortens it), is culled.  Seven seconds, because
 * a peer on loopback (a proxy in front) opens its window 64 KB at a time:
 * one reading 20 KiB/s shows it every 3-4 s, one reading 10 KiB/s does
 * not.  Besides the kernel's socket buffer, a client that never reads
 * costs at most lws's copy of one write, its hello and a share of a
 * greeting.
 */
#define FAN_UNSENT_MAX   (1024 * 1024)
#define FAN_STALL_SWEEPS 8

/*
 * Clients that chose the same topics share an audience, so a delivery
 * looks at each audience once and at the idle clients of matching ones
 * only.  Lives while it has members.
 */
struct fan_audience {
	struct fan_audience *prev, *next;
	struct topic_filter filter;
	struct msg *resync;   /* only while fan_resync() runs */
	struct msg *greeting; /* the newest snapshot, while a member has it */
	unsigned members;
	struct fan_client *idle;    /* caught-up members, in no order */
	struct fan_client *pending; /* the others */
};

/* A growable byte buffer with LWS_PRE headroom in front. */
struct fan_buf {
	unsigned char *p; /* LWS_PRE + cap bytes */
	size_t cap;
};

/* Where one message of a batch ends in it, and its ring position. */
struct fan_end {
	size_t end;
	uint64_t pos;
};

/* What one audience's idle members written to as one kind get in a flush. */
struct fan_batch {
	int built, failed;
	unsigned count; /* messages in it */
	unsigned char *p;
	size_t len;
	struct fan_end *ends; /* count of them, in order */
};

struct fan {
	struct msg **ring; /* ring[position % capacity] */
	unsigned capacity;
	uint64_t head;    /* newest position in the ring; 0 = empty */
	uint64_t flushed; /* newest position sent to the idle clients */
	uint64_t floor;   /* positions below it can't be resumed from */
	struct fan_audience *audiences;
	struct fan_buf batch[2]; /* fan_flush()'s, per fan_kind */
	struct fan_end *ends[2]; /* fan_flush()'s message ends, per fan_kind */
	size_t ends_cap[2];
	struct fan_buf scratch; /* fan_writeable()'s */
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
	free(f->batch[0].p);
	free(f->batch[1].p);
	free(f->ends[0]);
	free(f->ends[1]);
	free(f->scratch.p);
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

/* The list of a's members that c belongs in: idle or pending. */
static struct fan_client **
list_of(struct fan_client *c)
{
	return c->idle ? &c->aud->idle : &c->aud->pending;
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

/* c is caught up: from now on fan_flush() writes to it. */
static void
idle_add(struct fan_client *c)
{
	if (c->idle)
		return;
	list_unlink(c);
	c->idle = 1;
	list_push(c);
}

/* c is not (any more) caught up: it catches up from WRITEABLE. */
static void
idle_remove(struct fan_client *c)
{
	if (!c->idle)
		return;
	list_unlink(c);
	c->idle = 0;
	list_push(c);
}

/*
 * A new member of a is greeted with *snap: if it is byte for byte the
 * snapshot the previous newcomer got (nothing happened in between, as when
 * many connect at once), it is dropped for that one, which a keeps.
 */
static void
share_greeting(struct fan_audience *a, struct msg **snap)
{
	struct msg *g = a->greeting, *m = *snap;

	if (!m)
		return;
	if (g && g->frame_len == m->frame_len &&
	    !memcmp(g->frame, m->frame, m->frame_len)) {
		msg_unref(m);
		*snap = msg_ref(g);
		return;
	}
	msg_unref(g);
	a->greeting = msg_ref(m);
}

int
fan_attach(struct fan *f, struct fan_client *c, struct lws *wsi,
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
	share_greeting(a, &first[1]);
	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
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

void
fan_kill(struct fan_client *c)
{
	c->dead = 1;
	idle_remove(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
	                LWS_TO_KILL_ASYNC);
	/* Outside its own service (our timers, Redis replies) lws 4.1 does
	 * not notice a new timeout until something wakes it: wake it. */
	lws_cancel_service(lws_get_context(c->wsi));
}

/* m's bytes on the wire for a client written to as kind (NULL: ENOMEM). */
static unsigned char *
wire_bytes(struct msg *m, enum fan_kind kind, size_t *len)
{
	return kind == FAN_SSE ? msg_sse(m, len) : msg_frame(m, len);
}

/*
 * Hand lws len bytes for c, which it copies and sends after anything it
 * still holds, and count them in c->unsent until it is seen to have sent
 * everything (it may have at once).  0, or -1 if lws refused.
 */
static int
hand_to_lws(struct fan_client *c, unsigned char *p, size_t len)
{
	if (lws_write(c->wsi, p, len, LWS_WRITE_RAW) < (int)len)
		return -1;
	if (lws_partial_buffered(c->wsi))
		c->unsent += (uint32_t)len;
	else
		c->unsent = 0;
	return 0;
}

/*
 * Write len ready-framed bytes to c in one write; whatever the socket does
 * not take now lws keeps and sends first.  On failure c is killed; -1.
 *
 * A client with nothing buffered in lws (clear: the caller has just
 * checked) is written with send() itself: WebSocket and EventSource
 * clients are lws raw sockets whose bytes are ready (frames, events), and
 * lws_write()'s path costs a noticeable share of a delivery when one
 * message goes to 19,000 clients.  Only a remainder the socket refused
 * goes through lws, which keeps it.
 */
static int
write_out(struct fan_client *c, unsigned char *p, size_t len, int clear)
{
	ssize_t n = 0;

	if (!p)
		goto fail;
	if (clear || !lws_partial_buffered(c->wsi)) {
		c->unsent = 0; /* lws has sent all it was handed */
		n = send(lws_get_socket_fd(c->wsi), p, len,
		         MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				goto fail;
			n = 0;
		}
	}
	if ((size_t)n < len && hand_to_lws(c, p + n, len - (size_t)n))
		goto fail;
	return 0;
fail:
	fan_kill(c);
	return -1;
}

/* write_out() count messages, and count them. */
static int
send_bytes(struct fan_client *c, unsigned char *p, size_t len, unsigned count)
{
	if (write_out(c, p, len, 0))
		return -1;
	metrics.deliveries += count;
	metrics.writes++;
	return 0;
}

/* Make sure b holds LWS_PRE + len bytes; 0 or -1 (ENOMEM). */
static int
buf_reserve(struct fan_buf *b, size_t len)
{
	unsigned char *p;

	size_t cap = b->cap ? b->cap : 4096;

	if (b->cap >= len)
		return 0;
	while (cap < len) /* doubling: a burst grows it a few times only */
		cap *= 2;
	p = realloc(b->p, LWS_PRE + cap);
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
make_pending(struct fan_client *c, uint64_t from)
{
	idle_remove(c);
	c->next = from;
	lws_callback_on_writable(c->wsi);
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
		p = wire_bytes(m, kind, &len);
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
	if (buf_reserve(&f->batch[kind], total)) {
		b->failed = 1;
		return;
	}
	b->p = f->batch[kind].p + LWS_PRE;
	b->len = 0;
	for (unsigned i = 0; i < b->count; i++) {
		p = wire_bytes(f->ring[b->ends[i].pos % f->capacity], kind,
		               &len);
		memcpy(b->p + b->len, p, len);
		b->len += len;
	}
}

/*
 * Send batch b to c, which has nothing buffered, with send() itself: as
 * much as its socket takes now.  A message the socket took part of, lws
 * keeps the rest of; c catches up from WRITEABLE from the first message
 * it did not get at all.  Nothing is copied for a client that is behind.
 */
static void
send_batch(struct fan_client *c, const struct fan_batch *b)
{
	ssize_t n = send(lws_get_socket_fd(c->wsi), b->p, b->len,
	                 MSG_NOSIGNAL | MSG_DONTWAIT);
	unsigned lo = 0, hi = b->count;

	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			fan_kill(c);
			return;
		}
		n = 0;
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
		if (hand_to_lws(c, b->p + n, b->ends[lo].end - (size_t)n)) {
			fan_kill(c);
			return;
		}
		lo++;
	}
	metrics.deliveries += lo;
	if (lo < b->count)
		make_pending(c, b->ends[lo].pos);
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
				make_pending(a->idle, from);
		f->flushed = f->head;
		return;
	}
	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		struct fan_batch b[2];

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
				fan_kill(c);
				continue;
			}
			if (lws_partial_buffered(c->wsi)) {
				make_pending(c, from);
				continue;
			}
			c->unsent = 0; /* lws has sent all it was handed */
			send_batch(c, kb);
		}
	}
	f->flushed = f->head;
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
	fan_kill(c);
	return 1;
}

/* The bytes of m on the wire for kind, as near as known without making
 * its EventSource form (pieces' frame headers aside). */
static size_t
wire_len(const struct msg *m, enum fan_kind kind)
{
	return kind == FAN_SSE ? (m->sse ? m->sse_len : m->len) : m->frame_len;
}

/* What c is owed and lws does not hold: the rest of its first[]. */
static size_t
greeting_left(const struct fan_client *c)
{
	size_t left = 0, off = c->off;

	for (int i = 0; i < 2; i++) {
		if (!c->first[i])
			continue;
		left += wire_len(c->first[i], (enum fan_kind)c->kind) - off;
		off = 0;
	}
	return left;
}

/*
 * Bytes in c's socket not yet acknowledged by its peer (SIOCOUTQ): they
 * leave as the peer reads, unless its receive buffer is full.  -1 if the
 * kernel does not say.
 */
static int
socket_queue(const struct fan_client *c)
{
	int n;

	if (ioctl(lws_get_socket_fd(c->wsi), TIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

/*
 * Cull c if it is owed more than FAN_UNSENT_MAX (what lws holds for it and
 * the rest of its greeting) and this is the FAN_STALL_SWEEPS-th sweep in a
 * row that finds it so, having taken nothing since the one before: no
 * WRITEABLE, and its socket's queue no shorter.  1 if it was culled.
 */
static int
cull_if_stalled(struct fan_client *c)
{
	int took = c->took, queue;
	size_t owed;

	c->took = 0;
	if (c->dead)
		return 0;
	owed = c->unsent + greeting_left(c);
	if (owed <= FAN_UNSENT_MAX) {
		c->stalls = 0;
		return 0;
	}
	queue = socket_queue(c);
	if (took || (queue >= 0 && (uint32_t)queue < c->queued))
		c->stalls = 0;
	else
		c->stalls++;
	c->queued = queue > 0 ? (uint32_t)queue : 0;
	if (c->stalls < FAN_STALL_SWEEPS)
		return 0;
	log_notice("culling a client owed %zu bytes that took none for %d s "
	           "(unsent bound %d)",
	           owed, FAN_STALL_SWEEPS - 1, FAN_UNSENT_MAX);
	metrics.culled++;
	metrics.culled_unsent++;
	fan_kill(c);
	return 1;
}

/*
 * Cull the clients behind the ring and, once a second (stalled), those
 * owed too much that take none of it; drop the snapshots kept for sharing
 * that nobody is being sent any more.
 */
static void
sweep(struct fan *f, int stalled)
{
	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		/* Only pending clients can be behind, or owed much. */
		for (struct fan_client *c = a->pending; c; c = c->link)
			if (!cull_if_behind(f, c) && stalled)
				cull_if_stalled(c);
		if (a->greeting && a->greeting->refs == 1) {
			msg_unref(a->greeting);
			a->greeting = NULL;
		}
	}
}

void
fan_sweep(struct fan *f)
{
	sweep(f, 1);
}

/* What one write to a pending client carries (see fan_writeable()). */
struct gather {
	unsigned n;      /* pieces */
	unsigned msgs;   /* messages it completes */
	unsigned firsts; /* how many of them are c->first[] */
	unsigned heads;  /* frame headers made for pieces of a greeting */
	int cut;         /* some piece is part of a message: copy it all */
	size_t total;
	size_t off;    /* c->off once they are written */
	uint64_t next; /* c->next once they are written */
	struct {
		unsigned char *p;
		size_t len;
	} piece[FAN_PIECES_MAX];
	unsigned char head[FAN_HEADERS][10];
};

/* Add a piece unless the write is full; the first always fits. 0 or -1. */
static int
gather_add(struct gather *g, unsigned char *p, size_t len)
{
	if (g->n && (g->n == FAN_PIECES_MAX || g->total + len > FAN_BATCH_MAX))
		return -1;
	g->piece[g->n].p = p;
	g->piece[g->n].len = len;
	g->n++;
	g->total += len;
	return 0;
}

/*
 * Write into h the header (2, 4 or 10 bytes) of the WebSocket frame that
 * carries len bytes from byte off of a text message of total bytes sent in
 * pieces: the first a text frame, the others continuation frames, the last
 * one final.
 */
static void
piece_header(unsigned char *h, size_t off, size_t len, size_t total)
{
	h[0] = (unsigned char)((off + len == total ? 0x80 : 0) | (off ? 0 : 1));
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] =
			    (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
}

/*
 * Add greeting message m to g from byte off of its payload (WebSocket) or
 * event (EventSource): whole if it is small (as any message), else as many
 * FAN_PIECE pieces as fit.  1 once all of it is in, 0 if g is full (g->off
 * says where m stopped), -1 on ENOMEM.
 */
static int
gather_greeting(struct gather *g, struct msg *m, enum fan_kind kind, size_t off)
{
	unsigned char *p, *h;
	size_t len, n, hl = 0;

	p = kind == FAN_SSE ? msg_sse(m, &len) : msg_payload(m);
	if (!p)
		return -1;
	if (kind == FAN_WS)
		len = m->len;
	if (!off && len <= FAN_PIECE) {
		if (kind == FAN_WS)
			p = msg_frame(m, &len);
		return gather_add(g, p, len) ? 0 : 1;
	}
	for (g->off = off; g->off < len; g->off += n) {
		n = len - g->off < FAN_PIECE ? len - g->off : FAN_PIECE;
		if (kind == FAN_WS)
			hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
		/* A header and its bytes go together, or not at all. */
		if (g->n &&
		    (g->n + 2 > FAN_PIECES_MAX || g->heads == FAN_HEADERS ||
		     g->total + hl + n > FAN_BATCH_MAX))
			return 0;
		if (hl) {
			h = g->head[g->heads++];
			piece_header(h, g->off, n, len);
			g->piece[g->n].p = h;
			g->piece[g->n++].len = hl;
		}
		g->piece[g->n].p = p + g->off;
		g->piece[g->n++].len = n;
		g->total += hl + n;
		g->cut = 1;
	}
	g->off = 0;
	return 1;
}

/*
 * Collect what c gets next, in order: the rest of its greeting (or resync
 * snapshot), then the ring's matching messages up to the last flushed
 * position, as much as fits in one write.  -1 on ENOMEM.
 */
static int
gather(struct fan *f, struct fan_client *c, struct gather *g)
{
	unsigned char *p;
	size_t len, off = c->off;
	int r;

	g->n = g->msgs = g->firsts = g->heads = 0;
	g->cut = 0;
	g->total = g->off = 0;
	g->next = c->next;
	for (int i = 0; i < 2; i++) {
		if (!c->first[i])
			continue;
		r = gather_greeting(g, c->first[i], (enum fan_kind)c->kind,
		                    off);
		if (r <= 0)
			return r;
		g->firsts++;
		g->msgs++;
		off = 0;
	}
	for (; g->next <= f->flushed; g->next++) {
		struct msg *m = f->ring[g->next % f->capacity];

		if (!topic_filter_match(&c->aud->filter, m->topic))
			continue;
		p = wire_bytes(m, (enum fan_kind)c->kind, &len);
		if (!p)
			return -1;
		if (gather_add(g, p, len))
			break;
		g->msgs++;
	}
	return 0;
}

int
fan_writeable(struct fan *f, struct fan_client *c)
{
	struct gather g;
	unsigned char *p;
	size_t at = 0;

	if (c->dead || c->idle)
		return 0;
	if (cull_if_behind(f, c))
		return 0;
	if (!lws_partial_buffered(c->wsi)) {
		c->unsent = 0; /* lws has sent all it was handed */
		c->took = 1;
	}
	if (gather(f, c, &g)) {
		fan_kill(c);
		return -1;
	}
	if (c->unsent && c->unsent + g.total > FAN_UNSENT_MAX) {
		/* lws still holds much for it (WRITEABLE does not normally
		 * come then): more only once it has sent that. */
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (g.n) {
		p = g.piece[0].p;
		if (g.n > 1 || g.cut) {
			/* Back to back in one buffer (with room in front for
			 * lws, which a piece of a message lacks), one write. */
			if (buf_reserve(&f->scratch, g.total)) {
				fan_kill(c);
				return -1;
			}
			p = f->scratch.p + LWS_PRE;
			for (unsigned i = 0; i < g.n; i++) {
				memcpy(p + at, g.piece[i].p, g.piece[i].len);
				at += g.piece[i].len;
			}
		}
		if (send_bytes(c, p, g.total, g.msgs))
			return -1;
	}
	for (unsigned i = 0; i < g.firsts; i++) {
		int slot = c->first[0] ? 0 : 1;

		msg_unref(c->first[slot]);
		c->first[slot] = NULL;
	}
	c->off = g.off;
	c->next = g.next;
	if (c->first[0] || c->first[1] || c->next <= f->flushed)
		lws_callback_on_writable(c->wsi);
	else
		idle_add(c);
	return 0;
}

int
fan_send_raw(struct fan_client *c, const unsigned char *bytes, size_t len)
{
	unsigned char buf[LWS_PRE + 16];

	/* Frames only ever go out whole: between two, a control frame fits
	 * (also between two pieces of a greeting); an event does not. */
	if (c->dead || len > 16 || lws_partial_buffered(c->wsi) ||
	    (c->kind == FAN_SSE && c->off))
		return -1;
	memcpy(buf + LWS_PRE, bytes, len);
	return write_out(c, buf + LWS_PRE, len, 1);
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

void
fan_resync(struct fan *f,
           struct msg *(*snapshot_for)(void *arg,
                                       const struct topic_filter *filter),
           void *arg)
{
	struct fan_audience *a;

	fan_flush(f); /* what came before the gap is good */
	sweep(f, 0);  /* those already behind go, as they would have */
	f->floor = f->head + 1;
	for (a = f->audiences; a; a = a->next)
		a->resync = snapshot_for(arg, &a->filter);
	for (a = f->audiences; a; a = a->next) {
		struct fan_client *c, *next;

		while (a->idle) /* all pending: the snapshot comes first */
			idle_remove(a->idle);
		for (c = a->pending; c; c = next) {
			next = c->link;
			if (c->dead || c->closing || !a->resync)
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
			lws_callback_on_writable(c->wsi);
		}
	}
	for (a = f->audiences; a; a = a->next) {
		msg_unref(a->resync);
		a->resync = NULL;
	}
}
