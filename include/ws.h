/* ws.h: the WebSocket protocol clients speak at /ws. */
#ifndef TICKERD_WS_H
#define TICKERD_WS_H

#include <libwebsockets.h>

struct app;

/* The lws protocol entry for /ws (name "tickerd"). */
extern const struct lws_protocols ws_protocol;

/*
 * ws_shutdown() - refuse new clients and send every client a close frame
 * with code 1001 (going away) from its next WRITEABLE callback.
 */
void ws_shutdown(struct app *app);

#endif
