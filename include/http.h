/* http.h: the routes of plain HTTP requests: health, metrics, files. */
#ifndef TICKERD_HTTP_H
#define TICKERD_HTTP_H

#include "door.h"

#include <stddef.h>
#include <time.h>

struct app;
struct cfg;
struct request;
struct topic_filter;

/*
 * http_route() - answer (or hand on) one whole request that came to the
 * door: the route list (/healthz, /livez, /readyz, /metrics,
 * /items.json, /feed.atom, /events, /ws) first, then the web folder's files,
 * else 404.  Only GET and HEAD are served, but for the publish API
 * (/api/items..., api.c: POST too), which is handed every method.
 */
enum door_next http_route(struct door_conn *c, const struct request *r);

/*
 * http_admit() - for a handshake (/ws, /events): refuse r if tickerd is
 * shutting down, the guard turns it away (origin, limits) or its topics=
 * is not a valid list; else fill f.  0 when admitted; -1 when refused
 * (answered: the route returns DOOR_CLOSE).
 */
int http_admit(struct door_conn *c, const struct request *r,
               struct topic_filter *f);

/*
 * http_topics() - r's topics= into f, read as every route reads it (absent
 * or empty: all topics): 0; or -1 when it is not a valid list, answered
 * with the one 400 every route gives (counted as bad_topics; the route
 * returns DOOR_CLOSE).
 */
int http_topics(struct door_conn *c, const struct request *r,
                struct topic_filter *f);

/*
 * http_not_modified() - 1 if the client's copy is current (RFC 9110
 * 13.2.2) when the answer's ETag is etag and it last changed at mtime:
 * If-None-Match lists etag (compared weakly); or, without If-None-Match,
 * If-Modified-Since is no earlier than mtime.  A header sent twice is not
 * acted on.  For every answer with validators: files, the outputs.
 */
int http_not_modified(const struct request *r, const char *etag, time_t mtime);

/*
 * http_csp() - the Content-Security-Policy of everything tickerd serves,
 * for c's origins, into buf; its length, or -1 if it does not fit.
 */
int http_csp(const struct cfg *c, char *buf, size_t len);

/*
 * http_csp_build() - app->csp, the Content-Security-Policy every answer
 * carries, from app->cfg: once at start and again after each reload of
 * the configuration (SIGHUP), not per answer.
 */
void http_csp_build(struct app *app);

/*
 * http_redis_state() - Redis as /healthz and systemd's STATUS= word it:
 * "connected" when every connection answers, "connecting" when some do,
 * "down" when none; *ok: all of them do.
 */
const char *http_redis_state(struct app *app, int *ok);

#endif
