/* message.h: wire messages, encoded once and shared by every client. */
#ifndef TICKERD_MESSAGE_H
#define TICKERD_MESSAGE_H

#include "seq.h"

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room in front of a message's payload for its frame header (10 bytes at
 * most: RFC 6455 5.2, an unmasked frame of 64 KiB or more). */
#define MSG_HEADROOM 10

struct atom_entry;
struct item;
struct msg_z;
struct topic_filter;

/*
 * One encoded JSON text frame, its WebSocket header written in the
 * MSG_HEADROOM bytes of headroom in front of the payload.  Immutable once made;
 * reference counted because the fan-out ring, the history and clients still
 * writing it share the bytes. For an "item" message, item_off/item_len locate
 * the bare item object inside the frame, so a snapshot can reuse it without
 * encoding again. The EventSource form of the same message is made once, on
 * first use.
 */
struct msg {
	unsigned refs;
	struct seq seq;   /* log position; {0,0} for hello */
	int has_seq;      /* item, retract, non-empty snapshot */
	int resync;       /* a snapshot marked resync: for one client, not to
	                   * be shared with newcomers */
	uint64_t pos;     /* ring position, set by fan_publish() */
	const char *type; /* "item", "retract", "hello", "snapshot", "feed" */
	char *topic; /* NULL for per-client messages (hello, snapshot), feed */
	size_t len;
	size_t item_off, item_len;
	unsigned char *buf; /* MSG_HEADROOM + len + 1 bytes; payload after it */
	unsigned char *frame; /* the WebSocket frame: header, then payload */
	size_t frame_len;
	unsigned char *sse; /* sse_len bytes, or NULL until asked for */
	size_t sse_len;
	/* An item's Atom entry and expiry (atom.c), made on first use: one
	 * block, freed with the message. */
	struct atom_entry *atom;
	/* The publisher key's name its log entry records (NULL: none), for
	 * GET /api/items only: never in the frame readers get. */
	char *by;
	/* Its permessage-deflate forms (deflate.c), one per window size
	 * asked for, made on first use: freed with the message. */
	struct msg_z *z;
};

/*
 * One deflated form of a message (deflate.c makes it): the frame with RSV1
 * set, or, when deflate did not make it smaller, a note to send the plain
 * frame.  One block, in the message's list.
 */
struct msg_z {
	struct msg_z *next;
	unsigned char bits;   /* the window it was made with */
	unsigned char plain;  /* not smaller: the message's own frame */
	size_t len;           /* compressed payload bytes */
	unsigned char *frame; /* header, then the len payload bytes */
	size_t frame_len;
	unsigned char buf[]; /* MSG_HEADROOM + len */
};

/* msg_new_item() - {"type":"item","item":…}; it's seq must be set. */
struct msg *msg_new_item(const struct item *it, struct seq seq);

/* msg_new_retract() - {"type":"retract","id":…,"topic":…,"seq":…}. */
struct msg *msg_new_retract(const char *id, const char *topic, struct seq seq);

/*
 * What readers are told of the feed (feed.c decides it): ok, or degraded
 * since a time and for a reason ("redis", "library", "log": a static
 * string, or NULL when ok).
 */
struct msg_feed {
	int degraded;
	time_t since; /* when the state began */
	const char *reason;
};

struct json_t;

/*
 * msg_feed_fields() - set feed's "state", "since" and (degraded) "reason"
 * in the JSON object o, as the hello and the feed message say them
 * (/healthz too).  0, or -1 on ENOMEM.
 */
int msg_feed_fields(struct json_t *o, const struct msg_feed *feed);

/*
 * msg_new_hello() - the greeting: server, time, topics, epoch (or null) and
 * the feed's state ({"state":…,"since":…[,"reason":…]}; feed NULL: none).
 */
struct msg *msg_new_hello(const struct topic_filter *f, time_t now,
                          const char *epoch, const struct msg_feed *feed);

/*
 * msg_new_hello_access() - msg_new_hello(), and then access(o, arg) (if
 * not NULL) adds to the hello's object o what the client is granted
 * (access.c): 0, or -1 (ENOMEM: no hello).
 */
struct msg *msg_new_hello_access(const struct topic_filter *f, time_t now,
                                 const char *epoch, const struct msg_feed *feed,
                                 int (*access)(struct json_t *o,
                                               const void *arg),
                                 const void *arg);

/*
 * msg_new_json() - the JSON object o as a message of type (a static
 * string; its "type" is o's own) for one client: no topic, no seq.
 */
struct msg *msg_new_json(const char *type, struct json_t *o);

/*
 * msg_new_feed() - {"type":"feed","state":"ok"|"degraded","since":…
 * [,"reason":…]}: for every client whatever its topics (topic NULL), sent
 * with fan_broadcast(), never put in the ring; no seq.
 */
struct msg *msg_new_feed(const struct msg_feed *feed);

/*
 * msg_new_snapshot() - {"type":"snapshot","seq":…,"items":[…],"resync":…}
 * made by copying the item objects out of the n item messages, in the given
 * order; at (NULL: the log is empty) is the position it reflects.
 */
struct msg *msg_new_snapshot(struct msg *const *items, size_t n,
                             const struct seq *at, int resync);

/*
 * msg_frame_header() - write the header of an unmasked, final text frame of
 * len payload bytes just before payload (MSG_HEADROOM room there), RSV1 set
 * when compressed (deflate.c); returns where the frame starts.
 */
unsigned char *msg_frame_header(unsigned char *payload, size_t len,
                                int compressed);

/* msg_payload() - where the frame's bytes start (after the headroom). */
static inline unsigned char *
msg_payload(const struct msg *m)
{
	return m->buf + MSG_HEADROOM;
}

/*
 * msg_frame() - the whole WebSocket text frame (header and payload), made
 * with the message, so several can be sent back to back in one write.
 */
static inline unsigned char *
msg_frame(const struct msg *m, size_t *len)
{
	*len = m->frame_len;
	return m->frame;
}

/*
 * msg_sse() - the EventSource event for m ("id:", "event:", "data:"), made
 * on the first call and kept.  NULL on ENOMEM.
 */
unsigned char *msg_sse(struct msg *m, size_t *len);

/* msg_ref() / msg_unref() - share / release; the last unref frees. */
struct msg *msg_ref(struct msg *m);
void msg_unref(struct msg *m);

#endif
