/* fanout.h: one ring of encoded messages shared by every WebSocket client. */
#ifndef TICKERD_FANOUT_H
#define TICKERD_FANOUT_H

#include "deflate.h"
#include "topics.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct msg;
struct seq;
struct fan_audience;

/*
 * How a client is written to: WebSocket frames, EventSource events, or
 * WebSocket frames deflated (permessage-deflate, deflate.c) with a window
 * of 2^bits bytes: kind FAN_WSZ + bits - DEFLATE_BITS_MIN, one kind per
 * window, each made once per message and shared by its clients.
 */
enum fan_kind { FAN_WS, FAN_SSE, FAN_WSZ };
#define FAN_KINDS (FAN_WSZ + DEFLATE_BITS_N)

/* fan_kind_deflate() - the kind of a client that negotiated window bits. */
static inline enum fan_kind
fan_kind_deflate(int bits)
{
	return (enum fan_kind)(FAN_WSZ + bits - DEFLATE_BITS_MIN);
}

/* fan_kind_bits() - the window bits kind deflates with, 0 if it does not. */
static inline int
fan_kind_bits(int kind)
{
	return kind >= FAN_WSZ ? kind - FAN_WSZ + DEFLATE_BITS_MIN : 0;
}

/*
 * Where a client is in its life, as the fan-out sees it:
 *
 *   attach -> PENDING <-> IDLE         caught up / behind again
 *   PENDING, IDLE -> CLOSING           fan_close(): shutting down
 *   any -> DEAD                        fan_kill(), fan_retire()
 *
 * PENDING: it catches up from WRITEABLE (fan_writeable()), from ring
 * position next, after its first[] messages.  IDLE: caught up, it gets
 * each fan_flush() of new messages at once.  CLOSING: its next WRITEABLE
 * says goodbye; it is sent nothing more from the ring.  DEAD: a write
 * failed, it was culled or told to go; never written again.
 */
enum fan_state { FAN_PENDING, FAN_IDLE, FAN_CLOSING, FAN_DEAD };

/* A client's connection: a client socket (csock.c), or a test's fake. */
struct fan_conn;

/*
 * How the fan-out reaches its clients' connections.  Every byte handed
 * over is ready (frames, events); csock.h says why it is written this way.
 */
struct fan_ops {
	/* Write what the socket takes now of p, to a connection holding
	 * nothing: the bytes taken (maybe 0), or -1 if the connection failed.
	 */
	ssize_t (*try_send)(struct fan_conn *conn, const unsigned char *p,
	                    size_t len);
	/* Keep a copy of p, to go out after what is held; 0 or -1. */
	int (*keep)(struct fan_conn *conn, const unsigned char *p, size_t len);
	/* 1 while bytes kept are not all sent. */
	int (*holding)(struct fan_conn *conn);
	/* Call fan_writeable() when the socket has room. */
	void (*want_writeable)(struct fan_conn *conn);
	/* Close the connection soon, from the loop. */
	void (*close_soon)(struct fan_conn *conn);
	/* Bytes its peer has not acknowledged yet, or -1 if unknown. */
	int (*unacked)(struct fan_conn *conn);
};

/*
 * One of these per connected client, embedded in its session data.  Its
 * fields belong to the fan-out (keepalive.c's heard and pinged aside);
 * others read its state through fan_state_of() and change it through the
 * transitions above.  A first[] message bigger than one write goes out in
 * pieces, off bytes of it so far.
 */
struct fan_client {
	struct fan_conn *conn;
	struct fan_audience *aud;
	struct fan_client *prev, *link; /* in its audience's idle or pending */
	uint64_t next;        /* ring position of the next message it needs */
	struct msg *first[2]; /* before the ring: hello, snapshot; NULL: sent */
	size_t off;           /* bytes written of first[0], else of first[1] */
	uint32_t heard;       /* keepalive.c: when it last sent anything (ms) */
	uint32_t pinged;      /* keepalive.c: when we last pinged it (ms) */
	uint32_t unsent;      /* bytes kept by the connection, not yet sent */
	uint32_t queued;      /* its socket's send queue at the last sweep */
	unsigned kind : 4;    /* enum fan_kind */
	unsigned state : 2;   /* enum fan_state */
	unsigned took : 1;    /* had a WRITEABLE since the last fan_sweep() */
	unsigned stalls : 4;  /* sweeps in a row finding it owed, not taking */
	unsigned feed : 1; /* owes the fan-out's feed message, after first[] */
};

/* fan_state_of() - where c is in its life. */
static inline enum fan_state
fan_state_of(const struct fan_client *c)
{
	return (enum fan_state)c->state;
}

struct fan;

/*
 * fan_new() - a ring holding the last capacity messages, whose clients are
 * reached through ops; NULL on ENOMEM.
 */
struct fan *fan_new(unsigned capacity, const struct fan_ops *ops);

/* fan_free() - release the ring; every client must be detached first. */
void fan_free(struct fan *f);

/*
 * fan_attach() - add a client watching the topics filter selects, written
 * to as kind says.  It starts pending: first[0] and first[1] (hello,
 * snapshot; either may be NULL; the client takes over the references, even
 * on failure) go before ring position next (use fan_head() + 1 for "from
 * now on", after fan_flush()).  A snapshot byte for byte the same as the
 * one the audience's previous newcomer got is dropped for that one, so
 * clients arriving between two items share one copy.  0 or -1 (ENOMEM).
 */
int fan_attach(struct fan *f, struct fan_client *c, struct fan_conn *conn,
               enum fan_kind kind, const struct topic_filter *filter,
               uint64_t next, struct msg *first[2]);

/*
 * fan_regroup() - c (attached, pending or idle) now watches the topics
 * filter selects: it joins that audience, sent first[0] (an access
 * message) and then first[1] (a snapshot of the new set, continuing from
 * the ring head; NULL: the set did not change, and it goes on where it
 * was, its own snapshot still to go if it had one).  Whatever it was
 * owed from the old set is dropped.  The references are taken over.  0;
 * 1 if it is not the moment (its hello not out, halfway through a
 * snapshot, closing: try again later); -1 on ENOMEM (c is killed).
 */
int fan_regroup(struct fan *f, struct fan_client *c,
                const struct topic_filter *filter, struct msg *first[2]);

/* fan_detach() - forget a client (from its CLOSED callback). */
void fan_detach(struct fan *f, struct fan_client *c);

/*
 * fan_publish() - append m at the next ring position (the ring takes a
 * reference; m's seq must be after every seq in the ring).  Idle clients
 * get it at the next fan_flush(), together with whatever else came in the
 * same loop turn.
 */
void fan_publish(struct fan *f, struct msg *m);

/*
 * fan_broadcast() - send m to every client whatever its topics, outside the
 * ring (so nobody resumes to it, and it takes no resume slot): now to each
 * caught-up client (one write, after what its connection still keeps), and
 * to each pending one once its greeting is out, before the rest of what it
 * catches up on.  A client still owed an earlier broadcast gets m instead
 * (only the newest matters: the feed's state).  The fan-out keeps a
 * reference until the next broadcast.  For the feed message (feed.c).
 */
void fan_broadcast(struct fan *f, struct msg *m);

/*
 * fan_flush() - send what was published since the last flush to the idle
 * clients: per audience, the matching messages are framed back to back
 * once and that one buffer goes to each member in one send(): as much as
 * its socket takes (lws keeps the rest of a message cut in two), and it
 * takes the messages its socket had no room for from WRITEABLE.  A member
 * with bytes still buffered catches up from WRITEABLE instead.  Once per
 * loop turn, after the turn's I/O.
 */
void fan_flush(struct fan *f);

/*
 * fan_writeable() - from the client's WRITEABLE callback: write its first[]
 * messages and the next matching ones from the ring, as many as fit in
 * one 256 KiB write; ask for another callback if more are waiting, else make
 * it idle.  A first[] message over 64 KiB goes in 64 KiB pieces (WebSocket
 * continuation frames), the same for every client, so lws is never handed
 * more than one write.  A client that fell behind the ring is culled
 * asynchronously.  Returns -1 to close.
 */
int fan_writeable(struct fan *f, struct fan_client *c);

/*
 * fan_greet() - fan_writeable() for a client just attached whose response
 * head (a 101) has not been sent yet: head[0..len) goes first, in the same
 * write as its greeting (one send, not two: a reconnect storm is mostly
 * sends).  The head is always sent or kept, even when nothing follows it.
 */
int fan_greet(struct fan *f, struct fan_client *c, const unsigned char *head,
              size_t len);

/*
 * fan_resync() - the ring no longer tells what happened (entries were lost
 * before they reached it, or the log rolled back): forget its contents for
 * resuming, and send every client, next, the snapshot snapshot_for() makes
 * for its topics (made once per audience, shared by its clients), then
 * live messages.  The snapshot stands for position at (NULL: the newest
 * message in the ring), fan_resync_point() from now on: a client resuming
 * from it goes on with the messages after the snapshot.
 */
void fan_resync(struct fan *f, const struct seq *at,
                struct msg *(*snapshot_for)(void *arg,
                                            const struct topic_filter *filter),
                void *arg);

/* fan_resync_point() - the seq the last resync snapshot stands for, or
 * NULL before any. */
const struct seq *fan_resync_point(const struct fan *f);

/*
 * fan_sweep() - cull every client that fell behind the ring, whether or
 * not it reads (one that stops reading never gets to WRITEABLE), and every
 * one owed more than 1 MiB (what lws holds for it and the rest of its
 * greeting) that took none of it for seven seconds.  Once a second, never
 * per delivery.
 */
void fan_sweep(struct fan *f);

/* fan_foreach() - call fn for every attached client (shutdown, stats). */
void fan_foreach(struct fan *f, void (*fn)(struct fan_client *c, void *arg),
                 void *arg);

/*
 * fan_snapshot() - the snapshot the last newcomer of filter's audience was
 * greeted with, if nothing was published since (a new reference: the
 * caller unrefs it), so that newcomers arriving together share one instead
 * of each making its own; NULL when there is none to share.
 */
struct msg *fan_snapshot(const struct fan *f,
                         const struct topic_filter *filter);

/* fan_head() - ring position of the newest message, 0 before the first. */
uint64_t fan_head(const struct fan *f);

/* fan_used() / fan_capacity() - messages in the ring, and its size. */
uint64_t fan_used(const struct fan *f);
uint64_t fan_capacity(const struct fan *f);

/* fan_newest() - the newest message in the ring (borrowed), or NULL. */
struct msg *fan_newest(const struct fan *f);

/*
 * fan_find() - the ring position of the message whose seq is exactly s,
 * or 0 if the ring does not hold it (trimmed away, or never seen here).
 */
uint64_t fan_find(const struct fan *f, const struct seq *s);

/*
 * fan_find_time() - the ring position of the last message logged at or
 * before ms (ms since the epoch: its seq's time), so that what follows it
 * is exactly what was logged after; 0 if the ring does not reach back to
 * ms (its oldest message is later: earlier ones may be gone).
 */
uint64_t fan_find_time(const struct fan *f, uint64_t ms);

/*
 * fan_after() - the ring position of the oldest message it holds whose seq
 * is after s (s NULL: the oldest it holds), or fan_head() + 1 when none is.
 */
uint64_t fan_after(const struct fan *f, const struct seq *s);

/*
 * fan_count() - the messages filter takes from ring position from (or the
 * oldest held, if that is later) to the newest; the log time (its seq's
 * ms) of the first of them into *first_ms when *first_ms is 0.  For a
 * named screen's lag (screens.c): a walk of the ring, never per delivery.
 */
uint64_t fan_count(const struct fan *f, const struct topic_filter *filter,
                   uint64_t from, uint64_t *first_ms);

/* fan_filter_of() - the topics c watches (borrowed: while c is attached). */
const struct topic_filter *fan_filter_of(const struct fan_client *c);

/* Topics fan_readers() names at most; readers of others: "(other)". */
#define FAN_READER_TOPICS 256

/* Readers per topic (counts only), as /metrics shows them. */
struct fan_readers {
	struct {
		char topic[TOPIC_MAX_LEN + 1];
		uint64_t readers;
	} at[FAN_READER_TOPICS]; /* sorted by topic */
	unsigned n;
	uint64_t all;   /* readers of every topic (no topics=) */
	uint64_t other; /* readers of topics past the first FAN_READER_TOPICS */
};

/*
 * fan_readers() - every client (WebSocket and EventSource, named or not)
 * counted once under each topic it chose, from the audiences: a walk of
 * them, for a scrape of /metrics, never per delivery.
 */
void fan_readers(const struct fan *f, struct fan_readers *out);

/* fan_kill() - close c soon (asynchronously); nothing more is written. */
void fan_kill(struct fan *f, struct fan_client *c);

/*
 * fan_retire() - write c nothing more, and leave its connection open (it
 * was told why it is closed, and is given time to answer).
 */
void fan_retire(struct fan_client *c);

/*
 * fan_close() - shutting down: c is sent nothing more from the ring, and
 * its next WRITEABLE (asked for here) is for saying goodbye.
 */
void fan_close(struct fan *f, struct fan_client *c);

/*
 * fan_send_raw() - write a few (up to 16) ready-made bytes, a control
 * frame or a comment line, to a client with nothing buffered (so between
 * two whole frames; an event stream also not halfway through an event).
 * 0, or -1 if it was not the moment (or the write failed: the client is
 * killed).
 */
int fan_send_raw(struct fan *f, struct fan_client *c,
                 const unsigned char *bytes, size_t len);

#endif
