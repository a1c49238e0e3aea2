/* outputs.h: the current items over plain HTTP, for pages rendered on a
 * server or without JavaScript: /items.json and /feed.atom. */
#ifndef TICKERD_OUTPUTS_H
#define TICKERD_OUTPUTS_H

#include "door.h"

struct request;

/*
 * outputs_items_json() - GET/HEAD /items.json?topics=…: the items of those
 * topics that the history holds (all topics without topics=), as a JSON
 * array of the very bytes a WebSocket snapshot carries, in its order,
 * expired items left out.  With an ETag (of the bytes) and Last-Modified
 * (the last change to those topics' items); 304 when the client's copy is
 * current; Cache-Control: no-cache.  A bad topics= gets the 400 /ws gives.
 */
enum door_next outputs_items_json(struct door_conn *c, const struct request *r);

/*
 * outputs_feed_atom() - GET/HEAD /feed.atom?topics=…: the same items as
 * an Atom 1.0 feed (atom.h), newest first, with the same validators.
 */
enum door_next outputs_feed_atom(struct door_conn *c, const struct request *r);

#endif
