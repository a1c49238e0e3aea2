/* events.h: EventSource streams at /events. */
#ifndef TICKERD_EVENTS_H
#define TICKERD_EVENTS_H

#include "door.h"

#include <libwebsockets.h>

struct request;

/*
 * events_serve() - the /events route: admit the reader (http_admit()),
 * write the stream's head, and hand the socket to lws as a raw connection
 * of events_protocol, which greets the reader and feeds it from the ring.
 */
enum door_next events_serve(struct door_conn *c, const struct request *r);

/*
 * The lws protocol of EventSource streams (name "tickerd-events"), raw
 * sockets: lws reads nothing from them but the reader's leaving (noticed
 * at once) or anything it sends (a stream takes no requests: it ends).
 */
extern const struct lws_protocols events_protocol;

#endif
