/* http.c: the routes of plain HTTP requests: health (liveness, readiness,
 * detail), metrics, files. */
#include "http.h"

#include "redis_where.h"

#include "api.h"
#include "app.h"
#include "changelog.h"
#include "events.h"
#include "fanout.h"
#include "feed.h"
#include "files.h"
#include "guard.h"
#include "history.h"
#include "isotime.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "outputs.h"
#include "redis_where.h"
#include "request.h"
#include "screens.h"
#include "seq.h"
#include "subscriber.h"
#include "topics.h"
#include "ws.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *
http_redis_state(struct app *app, int *ok)
{
	int sub = sub_subscribed(app->sub), log = changelog_healthy(app->log);

	*ok = sub && log;
	return *ok ? "connected" : sub || log ? "connecting" : "down";
}

/* {"state":…,"since":…[,"reason":…]}: what clients are told (new). */
static json_t *
feed_json(const struct app *app)
{
	json_t *o = json_object();

	if (o && msg_feed_fields(o, feed_told(app->feed))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * The status of app as JSON (a new string, or NULL on ENOMEM): state,
 * why not ok (reason: feed_trouble(), or null), Redis, what clients are
 * told of the feed, clients, items, uptime, the newest seq, the epoch,
 * then the counters metrics_health() shares with /metrics.  *ok: all is
 * well.
 */
static char *
render_health(struct app *app, int *ok)
{
	struct msg *newest = fan_newest(app->fan);
	const char *epoch = changelog_epoch(app->log);
	const char *why = feed_trouble(app->sub, app->log);
	char last[SEQ_STR_LEN];
	json_t *o = json_object();
	const char *state = http_redis_state(app, ok);
	const char *master = where_master(app->where);
	char *text = NULL;

	if (newest)
		seq_format(newest->seq, last);
	if (o &&
	    !json_object_set_new(o, "status",
	                         json_string(*ok ? "ok" : "degraded")) &&
	    !json_object_set_new(o, "reason",
	                         why ? json_string(why) : json_null()) &&
	    !json_object_set_new(o, "redis", json_string(state)) &&
	    !json_object_set_new(o, "redis_mode",
	                         json_string(where_mode_name(app->where))) &&
	    !json_object_set_new(o, "redis_master",
	                         master ? json_string(master) : json_null()) &&
	    !json_object_set_new(o, "feed", feed_json(app)) &&
	    !json_object_set_new(
	        o, "clients",
	        json_integer((json_int_t)guard_clients(app->guard))) &&
	    !json_object_set_new(
	        o, "items",
	        json_integer((json_int_t)history_count(app->history))) &&
	    !json_object_set_new(
	        o, "uptime_s",
	        json_integer((json_int_t)(time(NULL) - metrics.started))) &&
	    !json_object_set_new(o, "last_seq",
	                         newest ? json_string(last) : json_null()) &&
	    !json_object_set_new(o, "epoch",
	                         epoch ? json_string(epoch) : json_null()) &&
	    !json_object_set_new(o, "pid",
	                         json_integer((json_int_t)getpid())) &&
	    !metrics_health(o))
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* GET /healthz: JSON, 503 while Redis is not all there. */
static enum door_next
serve_health(struct door_conn *c, const struct request *r)
{
	enum door_next next;
	int ok;
	char *body = render_health(door_app(c), &ok);

	if (!body)
		return door_refuse(c, r, 500, "out of memory", NULL);
	next = door_respond(c, r, ok ? 200 : 503, "application/json", body,
	                    strlen(body), NULL, 1);
	free(body);
	return next;
}

/*
 * GET /livez: this process serves (the loop runs, the door answers), Redis
 * or not: 200, or 503 once it is shutting down.  For load balancers'
 * health checks and a supervisor's liveness probe.
 */
static enum door_next
serve_live(struct door_conn *c, const struct request *r)
{
	if (door_app(c)->shutting_down)
		return door_respond(c, r, 503, "text/plain; charset=utf-8",
		                    "shutting down\n", 14, NULL, 1);
	return door_respond(c, r, 200, "text/plain; charset=utf-8", "ok\n", 3,
	                    NULL, 1);
}

/*
 * GET /readyz: fully up: 200 while Redis is all there (subscribed, both
 * change-log connections answering, the function library loaded, the log
 * read), else 503 naming why (feed_trouble()), also while shutting down.
 * For rollouts and readiness probes: not for taking a server out of a
 * balancer, which would take the whole site down with Redis.
 */
static enum door_next
serve_ready(struct door_conn *c, const struct request *r)
{
	struct app *app = door_app(c);
	const char *why = app->shutting_down ? "shutting down"
	                                     : feed_trouble(app->sub, app->log);
	char body[64];
	int n;

	if (!why)
		return door_respond(c, r, 200, "text/plain; charset=utf-8",
		                    "ready\n", 6, NULL, 1);
	n = snprintf(body, sizeof(body), "not ready: %s\n", why);
	return door_respond(c, r, 503, "text/plain; charset=utf-8", body,
	                    (size_t)n, NULL, 1);
}

/* GET /metrics: the counters in Prometheus text format. */
static enum door_next
serve_metrics(struct door_conn *c, const struct request *r)
{
	struct app *app = door_app(c);
	struct metrics_gauges g = {
	    .items = history_count(app->history),
	    .ring_used = fan_used(app->fan),
	    .ring_capacity = fan_capacity(app->fan),
	    .screens = screens_connected(app->screens),
	    .screens_stale = screens_stale(app->screens),
	};
	enum door_next next;
	char *body;
	int len;

	http_redis_state(app, &g.redis_ok);
	body = metrics_prometheus(0, &len, &g);
	if (!body)
		return door_refuse(c, r, 500, "out of memory", NULL);
	next =
	    door_respond(c, r, 200, "text/plain; version=0.0.4; charset=utf-8",
	                 body, (size_t)len, NULL, 1);
	free(body);
	return next;
}

/* GET /screens: the named screens, JSON (screens.c). */
static enum door_next
serve_screens(struct door_conn *c, const struct request *r)
{
	char *body = screens_json(door_app(c)->screens, isotime_now_ms());
	enum door_next next;

	if (!body)
		return door_refuse(c, r, 500, "out of memory", NULL);
	next = door_respond(c, r, 200, "application/json", body, strlen(body),
	                    NULL, 1);
	free(body);
	return next;
}

int
http_not_modified(const struct request *r, const char *etag, time_t mtime)
{
	time_t since;

	if (r->if_none_match.p)
		return !r->if_none_match_twice &&
		       req_etag_listed(r->if_none_match, etag);
	return r->if_modified_since.p && !r->if_modified_since_twice &&
	       !req_http_date(r->if_modified_since, &since) && mtime <= since;
}

/*
 * Any other GET or HEAD: a file of the web folder, or 404.  Gzipped when
 * it has a gzip copy and the client accepts gzip; 304 when the client's
 * copy is current.  Caches may keep it (f->cache) and tell its two
 * encodings apart by Vary and ETag.
 */
static enum door_next
serve_file(struct door_conn *c, const struct request *r)
{
	char path[1024], extra[256];
	const struct file *f = NULL;
	const char *etag;
	int gz, n;

	if (request_decode_path(r, path, sizeof(path)) >= 0)
		f = files_find(door_app(c)->files, path);
	if (!f)
		return door_refuse(c, r, 404, "no such file", NULL);
	gz = f->gz && !r->accept_encoding_twice &&
	     req_coding_q(r->accept_encoding, "gzip") > 0;
	etag = gz ? f->etag_gz : f->etag;
	/* Pages on other sites load ticker.js as a module: CORS. */
	n = snprintf(extra, sizeof(extra),
	             "ETag: %s\r\n"
	             "Last-Modified: %s\r\n"
	             "%s"
	             "Access-Control-Allow-Origin: *\r\n",
	             etag, f->last_modified,
	             f->gz ? "Vary: Accept-Encoding\r\n" : "");
	if (http_not_modified(r, etag, f->mtime))
		return door_respond_cached(c, r, 304, NULL, NULL, 0, f->cache,
		                           extra);
	if (gz && n > 0 && (size_t)n < sizeof(extra))
		snprintf(extra + n, sizeof(extra) - (size_t)n,
		         "Content-Encoding: gzip\r\n");
	return door_respond_cached(c, r, 200, f->type, gz ? f->gz : f->body,
	                           gz ? f->gz_len : f->len, f->cache, extra);
}

/* The routes, checked before the files: one line per endpoint. */
static const struct route {
	const char *path;
	int head; /* HEAD is served as well as GET */
	enum door_next (*serve)(struct door_conn *c, const struct request *r);
} routes[] = {
    {"/healthz", 1, serve_health},          /* detail for people: JSON */
    {"/livez", 1, serve_live},              /* liveness: for balancers */
    {"/readyz", 1, serve_ready},            /* readiness: for rollouts */
    {"/metrics", 1, serve_metrics},         /* Prometheus */
    {"/screens", 1, serve_screens},         /* named screens' health */
    {"/items.json", 1, outputs_items_json}, /* the items, as JSON */
    {"/feed.atom", 1, outputs_feed_atom},   /* the items, as Atom */
    {"/events", 0, events_serve},           /* EventSource */
    {"/ws", 0, ws_serve},                   /* WebSocket */
};

enum door_next
http_route(struct door_conn *c, const struct request *r)
{
	if (api_wants_body(r)) /* the publish API: JSON answers, POST */
		return api_route(c, r);
	if (r->method == REQ_OTHER || r->method == REQ_POST) {
		guard_refused(GUARD_METHOD, door_ip(c));
		return door_refuse(c, r, 405, "only GET and HEAD are served",
		                   "Allow: GET, HEAD\r\n");
	}
	if (r->has_body || r->hosts > 1 || (r->minor && !r->hosts)) {
		guard_refused(GUARD_BAD_REQUEST, door_ip(c));
		return door_refuse(c, r, 400,
		                   r->has_body ? "no request body is accepted"
		                               : "one Host header is needed",
		                   NULL);
	}
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!req_equals(r->path, routes[i].path) ||
		    memcmp(r->path.p, routes[i].path, r->path.len))
			continue;
		if (r->method == REQ_HEAD && !routes[i].head) {
			guard_refused(GUARD_METHOD, door_ip(c));
			return door_refuse(c, r, 405, "GET only",
			                   "Allow: GET\r\n");
		}
		return routes[i].serve(c, r);
	}
	if (r->websocket) {
		guard_refused(GUARD_NOT_FOUND, door_ip(c));
		return door_refuse(c, r, 404,
		                   "WebSocket connections are at /ws", NULL);
	}
	return serve_file(c, r);
}

int
http_admit(struct door_conn *c, const struct request *r, struct topic_filter *f)
{
	struct app *app = door_app(c);
	int status;

	if (app->shutting_down) {
		guard_refused(GUARD_SHUTDOWN, door_ip(c));
		door_refuse(c, r, 503, "shutting down", NULL);
		return -1;
	}
	if (guard_check(app->guard, door_client(c), r, &status) != GUARD_OK) {
		door_refuse(c, r, status,
		            status == 403   ? "origin not allowed"
		            : status == 429 ? "too many connections from your "
		                              "address"
		                            : "server full",
		            NULL);
		return -1;
	}
	return http_topics(c, r, f);
}

int
http_topics(struct door_conn *c, const struct request *r,
            struct topic_filter *f)
{
	char list[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1) + 1], why[128];
	long n = request_arg(r, "topics", list, sizeof(list));

	if (n == -2 ||
	    topic_filter_parse(f, n >= 0 ? list : NULL, why, sizeof(why))) {
		guard_refused(GUARD_BAD_TOPICS, door_ip(c));
		door_refuse(c, r, 400,
		            "topics must be at most 32 names of 1-64 of "
		            "A-Z a-z 0-9 _ . -, comma-separated",
		            NULL);
		return -1;
	}
	return 0;
}

/* The policy up to frame-ancestors' sources, which the origins decide. */
#define CSP_FIXED                                                              \
	"default-src 'none'; script-src 'self'; "                              \
	"style-src 'self'; img-src 'self' data:; "                             \
	"font-src 'self'; connect-src 'self'; "                                \
	"manifest-src 'self'; base-uri 'none'; "                               \
	"form-action 'none'; frame-ancestors"

/* The longest policy there can be: 'self' and every origin, each after a
 * space (CFG_ORIGINS_BYTES counts them so). */
_Static_assert(sizeof(CSP_FIXED " 'self'") + CFG_ORIGINS_BYTES <=
                   sizeof(((struct app *)0)->csp),
               "app.csp holds the Content-Security-Policy of any origins");

int
http_csp(const struct cfg *c, char *buf, size_t len)
{
	int n =
	    snprintf(buf, len, CSP_FIXED " %s", c->any_origin ? "*" : "'self'");

	for (int i = 0; !c->any_origin && i < c->n_origins; i++)
		if (n > 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, " %s",
			              c->origins[i]);
	return n > 0 && (size_t)n < len ? n : -1;
}

void
http_csp_build(struct app *app)
{
	/* It fits: see the _Static_assert above. */
	http_csp(&app->cfg, app->csp, sizeof(app->csp));
}
