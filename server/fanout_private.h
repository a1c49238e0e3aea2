/* fanout_private.h: the fan-out's state, shared by fanout.c (the ring,
 * flushing each turn's messages to caught-up clients, resync),
 * fanout_members.c (audiences, clients' states) and fanout_catchup.c
 * (clients that are behind: catch-up writes, greetings in pieces,
 * culling).  Nothing outside them includes it. */
#ifndef TICKERD_FANOUT_PRIVATE_H
#define TICKERD_FANOUT_PRIVATE_H

#include "fanout.h"
#include "seq.h"

#include <stddef.h>
#include <stdint.h>

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
 * What a client may be owed and not take: the bytes its connection keeps
 * and has not yet been seen to send (fan_client.unsent), plus the rest of
 * its greeting.  A connection only keeps what the socket refused of one
 * write (at most 256 KiB, or the tail of one message), and a pending
 * client is written to only once that is sent (should WRITEABLE come
 * earlier, more is appended only
 * within this bound), so once greeted a client never comes near 1 MiB:
 * four such writes, or eight of the largest item frames.  One owed more (a
 * greeting of several MB) that takes none of it, FAN_STALL_SWEEPS sweeps
 * in a row, a second apart (no WRITEABLE, and its socket's queue no
 * shorter: a slow reader shortens it), is culled.  Seven seconds, because
 * a peer on loopback (a proxy in front) opens its window 64 KB at a time:
 * one reading 20 KiB/s shows it every 3-4 s, one reading 10 KiB/s does
 * not.  Besides the kernel's socket buffer, a client that never reads
 * costs at most the kept copy of one write, its hello and a share of a
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
	uint64_t greeting_at; /* the ring head it was made at */
	unsigned members;
	struct fan_client *idle;    /* caught-up members, in no order */
	struct fan_client *pending; /* the others */
};

/* A growable byte buffer. */
struct fan_buf {
	unsigned char *p; /* cap bytes */
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
	const struct fan_ops *ops;
	struct msg **ring; /* ring[position % capacity] */
	unsigned capacity;
	uint64_t head;    /* newest position in the ring; 0 = empty */
	uint64_t flushed; /* newest position sent to the idle clients */
	uint64_t floor;   /* positions below it can't be resumed from */
	/* The position the last resync snapshot stands for (floor - 1): a
	 * client resuming from it goes on at floor. */
	struct seq floor_seq;
	int has_floor_seq;
	struct fan_audience *audiences;
	struct fan_buf batch[FAN_KINDS]; /* fan_flush()'s, per fan_kind */
	struct fan_end *ends[FAN_KINDS]; /* its message ends, per fan_kind */
	size_t ends_cap[FAN_KINDS];
	struct fan_buf scratch; /* fan_writeable()'s */
	struct msg *feed;       /* the last fan_broadcast()'s, or NULL */
};

/* Helpers of one of them that another uses. */
uint64_t fan_ring_tail(const struct fan *f);
void fan_idle_add(struct fan_client *c);
void fan_idle_remove(struct fan_client *c);
unsigned char *fan_wire_bytes(struct msg *m, enum fan_kind kind, size_t *len);
unsigned char *fan_ws_payload(struct msg *m, enum fan_kind kind, size_t *len,
                              int *rsv1);
int fan_write_out(struct fan *f, struct fan_client *c, unsigned char *p,
                  size_t len, int clear);
int fan_buf_reserve(struct fan_buf *b, size_t len);

/* fanout_catchup.c's: a sweep over the pending clients (stalled: also
 * judge who took nothing of what it is owed). */
void fan_sweep_some(struct fan *f, int stalled);

#endif
