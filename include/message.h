/* message.h: wire messages, encoded once and shared by every client. */
#ifndef TICKERD_MESSAGE_H
#define TICKERD_MESSAGE_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct item;
struct topic_filter;

/*
 * One encoded JSON text frame with LWS_PRE bytes of headroom in front, as
 * lws_write() wants.  Immutable once made; reference counted because the
 * fan-out ring, the history and clients still writing it share the bytes.
 * For an "item" message, item_off/item_len locate the bare item object
 * inside the frame, so a snapshot can reuse it without encoding again.
 */
struct msg {
	unsigned refs;
	uint64_t seq;
	char *topic; /* NULL for per-client messages (hello, snapshot) */
	size_t len;
	size_t item_off, item_len;
	unsigned char *buf; /* LWS_PRE + len bytes; payload at buf + LWS_PRE */
};

/* msg_new_item() - {"type":"item","item":…} for it; seq must be set. */
struct msg *msg_new_item(const struct item *it, uint64_t seq);

/* msg_new_retract() - {"type":"retract","id":…,"topic":…,"seq":…}. */
struct msg *msg_new_retract(const char *id, const char *topic, uint64_t seq);

/* msg_new_hello() - the greeting naming the client's topics. */
struct msg *msg_new_hello(const struct topic_filter *f, time_t now);

/*
 * msg_new_snapshot() - {"type":"snapshot","items":[…],"resync":…} made by
 * copying the item objects out of the n item messages, in the given order.
 */
struct msg *msg_new_snapshot(struct msg *const *items, size_t n, int resync);

/* msg_payload() - where the frame's bytes start (after the headroom). */
static inline unsigned char *
msg_payload(const struct msg *m)
{
	return m->buf + LWS_PRE;
}

/* msg_ref() / msg_unref() - share / release; the last unref frees. */
struct msg *msg_ref(struct msg *m);
void msg_unref(struct msg *m);

#endif
