/* fanout.h: one ring of encoded messages shared by every WebSocket client. */
#ifndef TICKERD_FANOUT_H
#define TICKERD_FANOUT_H

#include "topics.h"

#include <libwebsockets.h>
#include <stdint.h>

struct msg;
struct fan_audience;

/*
 * One of these per connected client, embedded in its lws session data.  A
 * client is either idle (caught up: it sits in its audience's idle list and
 * new messages are written to it the moment they arrive) or pending (it has
 * a WRITEABLE request out and catches up from the ring, from seq next).
 */
struct fan_client {
	struct lws *wsi;
	struct fan_audience *aud;
	struct fan_client *idle_prev, *idle_next;
	struct fan_client *all_prev, *all_next;
	uint64_t next; /* seq of the next message it needs, when pending */
	int idle;
	int dead; /* a write failed or it was culled: never write again */
};

struct fan;

/* fan_new() - a ring holding the last capacity messages; NULL on ENOMEM. */
struct fan *fan_new(unsigned capacity);

/* fan_free() - release the ring; every client must be detached first. */
void fan_free(struct fan *f);

/*
 * fan_attach() - add a client watching the topics filter selects.  It
 * starts pending from the next message published, so whatever it is sent
 * first (hello, snapshot) comes before any live message.  0 or -1.
 */
int fan_attach(struct fan *f, struct fan_client *c, struct lws *wsi,
               const struct topic_filter *filter);

/* fan_detach() - forget a client (from its CLOSED callback). */
void fan_detach(struct fan *f, struct fan_client *c);

/*
 * fan_publish() - append m (its seq must be the next one; the ring takes a
 * reference) and deliver it: written at once to idle clients of matching
 * audiences with nothing buffered, queued behind WRITEABLE for the rest.
 */
void fan_publish(struct fan *f, struct msg *m);

/*
 * fan_writeable() - from the client's WRITEABLE callback: write its next
 * matching message from the ring (one lws_write per callback), ask for
 * another callback if more are waiting, else make it idle.  A client that
 * fell behind the ring is culled asynchronously.  Returns -1 to close.
 */
int fan_writeable(struct fan *f, struct fan_client *c);

/* fan_foreach() - call fn for every attached client (shutdown, stats). */
void fan_foreach(struct fan *f, void (*fn)(struct fan_client *c, void *arg),
                 void *arg);

/* fan_head() - seq of the newest message published, 0 before the first. */
uint64_t fan_head(const struct fan *f);

#endif
