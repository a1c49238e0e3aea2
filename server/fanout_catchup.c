/* fanout_catchup.c: clients that are behind: what one write to them
 * carries (greeting, in pieces when long, then the ring), and culling the
 * ones that fall behind the ring or take nothing of what they are owed. */
#include "fanout_private.h"

#include "log.h"
#include "message.h"
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

/* fan_write_out() count messages, and count them. */
static int
send_bytes(struct fan *f, struct fan_client *c, unsigned char *p, size_t len,
           unsigned count)
{
	if (fan_write_out(f, c, p, len, 0))
		return -1;
	metrics.deliveries += count;
	metrics.writes++;
	return 0;
}

/* Cull c if it fell behind the ring; 1 if it did. */
static int
cull_if_behind(struct fan *f, struct fan_client *c)
{
	if (c->state != FAN_PENDING || c->next >= fan_ring_tail(f))
		return 0;
	log_notice("culling a client %llu messages behind",
	           (unsigned long long)(f->head - c->next + 1));
	metrics.culled++;
	fan_kill(f, c);
	return 1;
}

/* The bytes of m on the wire for kind, as near as known without making
 * its EventSource or deflated form (pieces' frame headers aside). */
static size_t
wire_len(const struct msg *m, enum fan_kind kind)
{
	if (kind >= FAN_WSZ)
		for (const struct msg_z *z = m->z; z; z = z->next)
			if (z->bits == fan_kind_bits(kind) && !z->plain)
				return z->frame_len;
	return kind == FAN_SSE ? (m->sse ? m->sse_len : m->len) : m->frame_len;
}

/* What c is owed and its connection does not keep: the rest of its
 * first[]. */
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
 * Cull c if it is owed more than FAN_UNSENT_MAX (what its connection keeps and
 * the rest of its greeting) and this is the FAN_STALL_SWEEPS-th sweep in a
 * row that finds it so, having taken nothing since the one before: no
 * WRITEABLE, and its socket's queue no shorter.  1 if it was culled.
 */
static int
cull_if_stalled(struct fan *f, struct fan_client *c)
{
	int took = c->took, queue;
	size_t owed;

	c->took = 0;
	if (c->state == FAN_DEAD)
		return 0;
	owed = c->unsent + greeting_left(c);
	if (owed <= FAN_UNSENT_MAX) {
		c->stalls = 0;
		return 0;
	}
	/* Unacknowledged bytes leave as the peer reads, unless its receive
	 * buffer is full. */
	queue = f->ops->unacked(c->conn);
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
	fan_kill(f, c);
	return 1;
}

/*
 * Cull the clients behind the ring and, once a second (stalled), those
 * owed too much that take none of it; drop the snapshots kept for sharing
 * that nobody is being sent any more.
 */
void
fan_sweep_some(struct fan *f, int stalled)
{
	for (struct fan_audience *a = f->audiences; a; a = a->next) {
		/* Only pending clients can be behind, or owed much. */
		for (struct fan_client *c = a->pending; c; c = c->link)
			if (!cull_if_behind(f, c) && stalled)
				cull_if_stalled(f, c);
		if (a->greeting && a->greeting->refs == 1) {
			msg_unref(a->greeting);
			a->greeting = NULL;
		}
	}
}

void
fan_sweep(struct fan *f)
{
	fan_sweep_some(f, 1);
}

/* What one write to a pending client carries (see fan_writeable()). */
struct gather {
	unsigned n;      /* pieces */
	unsigned msgs;   /* messages it completes */
	unsigned firsts; /* how many of them are c->first[] */
	unsigned heads;  /* frame headers made for pieces of a greeting */
	int cut;         /* some piece is part of a message: copy it all */
	int feed;        /* it carries the feed message the client owes */
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
 * pieces: the first a text frame (RSV1 set if rsv1: compressed), the
 * others continuation frames, the last one final.
 */
static void
piece_header(unsigned char *h, size_t off, size_t len, size_t total, int rsv1)
{
	h[0] = (unsigned char)((off + len == total ? 0x80 : 0) |
	                       (off ? 0 : 1 | (rsv1 ? 0x40 : 0)));
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
	int ws = kind != FAN_SSE, rsv1 = 0;

	p = ws ? fan_ws_payload(m, kind, &len, &rsv1) : msg_sse(m, &len);
	if (!p)
		return -1;
	if (!off && len <= FAN_PIECE) {
		if (ws)
			p = fan_wire_bytes(m, kind, &len);
		return gather_add(g, p, len) ? 0 : 1;
	}
	for (g->off = off; g->off < len; g->off += n) {
		n = len - g->off < FAN_PIECE ? len - g->off : FAN_PIECE;
		if (ws)
			hl = n < 126 ? 2 : n < 65536 ? 4 : 10;
		/* A header and its bytes go together, or not at all. */
		if (g->n &&
		    (g->n + 2 > FAN_PIECES_MAX || g->heads == FAN_HEADERS ||
		     g->total + hl + n > FAN_BATCH_MAX))
			return 0;
		if (hl) {
			h = g->head[g->heads++];
			piece_header(h, g->off, n, len, rsv1);
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
 * Collect what c gets next, in order: head (its response head, not yet
 * sent; len 0: none), the rest of its greeting (or resync snapshot), the
 * feed message it owes, then the ring's matching messages up to the last
 * flushed position, as much as fits in one write.  -1 on ENOMEM.
 */
static int
gather(struct fan *f, struct fan_client *c, struct gather *g,
       const unsigned char *head, size_t head_len)
{
	unsigned char *p;
	size_t len, off = c->off;
	int r;

	g->n = g->msgs = g->firsts = g->heads = 0;
	g->cut = g->feed = 0;
	g->total = g->off = 0;
	g->next = c->next;
	if (head_len) /* the first piece always fits; read, never written */
		gather_add(g, (unsigned char *)head, head_len);
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
	if (c->feed && f->feed) {
		p = fan_wire_bytes(f->feed, (enum fan_kind)c->kind, &len);
		if (!p)
			return -1;
		if (gather_add(g, p, len))
			return 0;
		g->feed = 1;
		g->msgs++;
	}
	for (; g->next <= f->flushed; g->next++) {
		struct msg *m = f->ring[g->next % f->capacity];

		if (!topic_filter_match(&c->aud->filter, m->topic))
			continue;
		p = fan_wire_bytes(m, (enum fan_kind)c->kind, &len);
		if (!p)
			return -1;
		if (gather_add(g, p, len))
			break;
		g->msgs++;
	}
	return 0;
}

/*
 * fan_writeable(), with head[0..len) first in the write when len > 0 (see
 * fan_greet()).
 */
static int
write_next(struct fan *f, struct fan_client *c, const unsigned char *head,
           size_t head_len)
{
	struct gather g;
	unsigned char *p;
	size_t at = 0;

	if (c->state != FAN_PENDING || cull_if_behind(f, c))
		return head_len ? fan_write_out(f, c, (unsigned char *)head,
		                                head_len, 0)
		                : 0;
	if (!f->ops->holding(c->conn)) {
		c->unsent = 0; /* it has sent all it kept */
		c->took = 1;
	}
	if (gather(f, c, &g, head, head_len)) {
		fan_kill(f, c);
		return -1;
	}
	if (!head_len && c->unsent && c->unsent + g.total > FAN_UNSENT_MAX) {
		/* Its connection still keeps much for it (WRITEABLE does not
		 * normally come then): more only once it has sent that. */
		f->ops->want_writeable(c->conn);
		return 0;
	}
	if (g.n) {
		p = g.piece[0].p;
		if (g.n > 1 || g.cut) {
			/* Back to back in one buffer, one write. */
			if (fan_buf_reserve(&f->scratch, g.total)) {
				fan_kill(f, c);
				return -1;
			}
			p = f->scratch.p;
			for (unsigned i = 0; i < g.n; i++) {
				memcpy(p + at, g.piece[i].p, g.piece[i].len);
				at += g.piece[i].len;
			}
		}
		if (send_bytes(f, c, p, g.total, g.msgs))
			return -1;
	}
	for (unsigned i = 0; i < g.firsts; i++) {
		int slot = c->first[0] ? 0 : 1;

		msg_unref(c->first[slot]);
		c->first[slot] = NULL;
	}
	if (g.feed)
		c->feed = 0;
	c->off = g.off;
	c->next = g.next;
	if (c->first[0] || c->first[1] || c->feed || c->next <= f->flushed)
		f->ops->want_writeable(c->conn);
	else
		fan_idle_add(c);
	return 0;
}

int
fan_writeable(struct fan *f, struct fan_client *c)
{
	return write_next(f, c, NULL, 0);
}

int
fan_greet(struct fan *f, struct fan_client *c, const unsigned char *head,
          size_t len)
{
	return write_next(f, c, head, len);
}
