/* http.h: plain HTTP endpoints served beside the static front-end. */
#ifndef TICKERD_HTTP_H
#define TICKERD_HTTP_H

#include <libwebsockets.h>

/* The lws protocol entry behind the /healthz mount (name "http"). */
extern const struct lws_protocols http_protocol;

#endif
