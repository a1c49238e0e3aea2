/* subscriber.h: the PSUBSCRIBE connection that hears every PUBLISH. */
#ifndef TICKERD_SUBSCRIBER_H
#define TICKERD_SUBSCRIBER_H

#include "config.h"

#include <stddef.h>
#include <uv.h>

/* Called for each message on the pattern; the bytes are hiredis's. */
typedef void (*sub_message_fn)(void *arg, const char *channel,
                               size_t channel_len, const char *payload,
                               size_t payload_len);

/*
 * Called once for each probe that was sent, in the order they were sent:
 * published 1 once Redis answered its PUBLISH, 0 if its connection went
 * away first.
 */
typedef void (*sub_probe_done_fn)(void *sub, int published);

/*
 * Publishes text on channel on some other connection (a subscriber can't
 * publish), then calls done(sub, ...): 0 when sent, -1 when it could not
 * be now (done is not called then).
 */
typedef int (*sub_probe_fn)(void *arg, const char *channel, const char *text,
                            sub_probe_done_fn done, void *sub);

/* What a subscriber calls: for each message, and to send its probes. */
struct sub_ops {
	sub_message_fn message;
	sub_probe_fn probe;
};

struct subscriber;

/*
 * sub_new() - a connection that PSUBSCRIBEs pattern on where's master (it
 * moves when the master does; on a cluster any node hears every PUBLISH) and
 * calls ops->message(arg, ...) for every message, reconnecting (and subscribing
 * again) whenever the connection fails.  It also SUBSCRIBEs probe_channel
 * and, every second, has ops->probe(arg, ...) publish a numbered probe
 * there, which never reaches ops->message.  A connection that does not
 * confirm the subscription, or stops hearing its probes, within
 * LIVENESS_SILENCE_MS is dropped as dead.  Nothing happens until
 * sub_start().
 */
struct redis_where;

struct subscriber *sub_new(uv_loop_t *loop, struct redis_where *where,
                           const char *pattern, const char *probe_channel,
                           const struct sub_ops *ops, void *arg);

void sub_start(struct subscriber *s);

/* sub_subscribed() - 1 once PSUBSCRIBE is confirmed on a live connection. */
int sub_subscribed(const struct subscriber *s);

/* sub_stop() / sub_free() - as rconn_stop() / rconn_free(). */
void sub_stop(struct subscriber *s);
void sub_free(struct subscriber *s);

#endif
