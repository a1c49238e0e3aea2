/* ws.h: the WebSocket protocol clients speak at /ws. */
#ifndef TICKERD_WS_H
#define TICKERD_WS_H

#include "door.h"

#include <libwebsockets.h>

struct app;
struct request;

/*
 * ws_serve() - the /ws route: a WebSocket 13 upgrade with a valid key from
 * an admitted client (http_admit()) goes on to lws, which answers 101;
 * anything else is answered with its status (426, 400, 403, 429, 503).
 */
enum door_next ws_serve(struct door_conn *c, const struct request *r);

/* The lws protocol entry for /ws (name "tickerd"). */
extern const struct lws_protocols ws_protocol;

/*
 * ws_shutdown() - refuse new clients and send every client a close frame
 * with code 1001 (going away) from its next WRITEABLE callback.
 */
void ws_shutdown(struct app *app);

#endif
