/* ws.h: the WebSocket protocol clients speak at /ws. */
#ifndef TICKERD_WS_H
#define TICKERD_WS_H

#include "door.h"

struct app;
struct request;

/*
 * ws_serve() - the /ws route: a WebSocket 13 upgrade with a valid key from
 * an admitted client (http_admit()) is answered 101 and becomes a client
 * socket (csock.c) with its session; anything else is answered with its
 * status (426, 400, 403, 429, 503).
 */
enum door_next ws_serve(struct door_conn *c, const struct request *r);

/*
 * ws_shutdown() - refuse new clients and send every client a close frame
 * with code 1001 (going away) from its next WRITEABLE callback.
 */
void ws_shutdown(struct app *app);

#endif
