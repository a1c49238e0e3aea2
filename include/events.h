/* events.h: EventSource streams at /events. */
#ifndef TICKERD_EVENTS_H
#define TICKERD_EVENTS_H

#include "door.h"

struct request;

/*
 * events_serve() - the /events route: admit the reader (http_admit()),
 * make the stream's head, and make the socket a client socket (csock.c)
 * whose session greets the reader (head first) and feeds it from the ring;
 * anything a reader sends ends its stream (a stream takes no requests).
 */
enum door_next events_serve(struct door_conn *c, const struct request *r);

#endif
