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

struct subscriber;

/*
 * sub_new() - a connection that PSUBSCRIBEs pattern on target and calls fn
 * for every message, reconnecting (and subscribing again) whenever the
 * connection fails.  It also SUBSCRIBEs probe_channel, this instance's own
 * liveness probes (see sub_probe_sent()), which never reach fn.  A connection
 * that does not confirm the subscription, or stops hearing probes, within 3 s
 * is dropped as dead. Nothing happens until sub_start().
 */
struct subscriber *sub_new(uv_loop_t *loop, const struct redis_target *target,
                           const char *pattern, const char *probe_channel,
                           sub_message_fn fn, void *arg);

/*
 * sub_probe_sent() - another connection has just published probe number n
 * on the probe channel: this one should hear it soon.
 */
void sub_probe_sent(struct subscriber *s, unsigned long n);

void sub_start(struct subscriber *s);

/* sub_subscribed() - 1 once PSUBSCRIBE is confirmed on a live connection. */
int sub_subscribed(const struct subscriber *s);

/* sub_stop() / sub_free() - as rconn_stop() / rconn_free(). */
void sub_stop(struct subscriber *s);
void sub_free(struct subscriber *s);

#endif
