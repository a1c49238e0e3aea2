/* http.c: /healthz, /events (EventSource), headers on static files. */
#include "http.h"

#include "app.h"
#include "changelog.h"
#include "fanout.h"
#include "session.h"
#include "guard.h"
#include "history.h"
#include "listener.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "seq.h"
#include "subscriber.h"
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * One per HTTP connection on the callback mounts.  A /healthz request
 * keeps its body here until HTTP_WRITEABLE; an /events stream is a
 * fan-out client for the connection's life.
 */
struct http_session {
	struct session s; /* first: an /events stream is a client */
	char *body;       /* LWS_PRE + len bytes, malloc'd; NULL when none */
	int len;
};

/* "connected" when every Redis connection answers, "down" when none is up. */
static const char *
redis_state(struct app *app, int *ok)
{
	int sub = sub_subscribed(app->sub), log = changelog_healthy(app->log);

	*ok = sub && log;
	return *ok ? "connected" : sub || log ? "connecting" : "down";
}

/* Write the status body for app into s; returns the HTTP status. */
static int
render_health(struct app *app, struct http_session *s)
{
	struct msg *newest = fan_newest(app->fan);
	const char *epoch = changelog_epoch(app->log);
	char last[SEQ_STR_LEN + 2] = "null", ep[48] = "null";
	const char *state;
	int ok;

	state = redis_state(app, &ok);
	if (newest) {
		last[0] = '"';
		seq_format(newest->seq, last + 1);
		strcat(last, "\"");
	}
	if (epoch)
		snprintf(ep, sizeof(ep), "\"%s\"", epoch);
	s->body = malloc(LWS_PRE + 1024);
	if (!s->body)
		return HTTP_STATUS_INTERNAL_SERVER_ERROR;
	s->len = snprintf(
	    s->body + LWS_PRE, 1024,
	    "{\"status\":\"%s\",\"redis\":\"%s\",\"clients\":%llu,"
	    "\"items\":%zu,\"uptime_s\":%lld,\"last_seq\":%s,"
	    "\"epoch\":%s,\"received\":%llu,\"published\":%llu,"
	    "\"retracted\":%llu,\"rejected\":%llu,\"duplicates\":%llu,"
	    "\"deliveries\":%llu,\"culled\":%llu,\"resyncs\":%llu,"
	    "\"record_errors\":%llu}\n",
	    ok ? "ok" : "degraded", state, (unsigned long long)metrics.clients,
	    history_count(app->history),
	    (long long)(time(NULL) - metrics.started), last, ep,
	    (unsigned long long)metrics.received,
	    (unsigned long long)metrics.published,
	    (unsigned long long)metrics.retracted,
	    (unsigned long long)metrics.rejected,
	    (unsigned long long)metrics.duplicates,
	    (unsigned long long)metrics.deliveries,
	    (unsigned long long)metrics.culled,
	    (unsigned long long)metrics.resyncs,
	    (unsigned long long)metrics.record_errors);
	return ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
}

/*
 * Start a response: status, type, length (or none), no caching; cors lets
 * pages on other origins read it (the EventSource stream, whose origin
 * guard_check() already vetted), not the operator's /healthz and /metrics.
 */
static int
write_headers(struct lws *wsi, int status, const char *type, lws_filepos_t len,
              int cors)
{
	unsigned char headers[LWS_PRE + 512], *start = headers + LWS_PRE;
	unsigned char *p = start, *end = headers + sizeof(headers) - 1;

	if (lws_add_http_common_headers(wsi, (unsigned)status, type, len, &p,
	                                end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"cache-control:",
	        (const unsigned char *)"no-store", 8, &p, end) ||
	    (cors &&
	     lws_add_http_header_by_name(
	         wsi, (const unsigned char *)"access-control-allow-origin:",
	         (const unsigned char *)"*", 1, &p, end)) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

/* GET /metrics: the counters in Prometheus text format. */
static int
serve_metrics(struct lws *wsi, struct http_session *s)
{
	struct app *app = app_from_wsi(wsi);
	int ok;

	redis_state(app, &ok);
	s->body = metrics_prometheus(
	    LWS_PRE, &s->len, ok, history_count(app->history),
	    fan_used(app->fan), fan_capacity(app->fan));
	if (!s->body ||
	    write_headers(wsi, HTTP_STATUS_OK,
	                  "text/plain; version=0.0.4; charset=utf-8",
	                  (lws_filepos_t)s->len, 0))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
serve_health(struct lws *wsi, struct http_session *s)
{
	int status = render_health(app_from_wsi(wsi), s);

	if (write_headers(wsi, status, "application/json",
	                  (lws_filepos_t)s->len, 0))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * GET /events?topics=a,b[&since=SEQ]: an EventSource stream of the same
 * messages as /ws, each with "id: <seq>"; a Last-Event-ID header (sent by
 * the browser when it reconnects) wins over since=.
 */
static int
serve_events(struct lws *wsi, struct http_session *s)
{
	struct app *app = app_from_wsi(wsi);
	char list[TOPIC_FILTER_MAX * (TOPIC_MAX_LEN + 1) + 16];
	char since[SEQ_STR_LEN + 8], why[128];
	const char *topics, *at;
	struct topic_filter f;
	int status;

	if (app->shutting_down)
		return -1;
	if (guard_check(app->guard, wsi, &status) != GUARD_OK)
		return lws_return_http_status(wsi, (unsigned)status, NULL)
		           ? -1
		           : lws_http_transaction_completed(wsi);
	topics = lws_get_urlarg_by_name(wsi, "topics=", list, sizeof(list));
	if (topic_filter_parse(&f, topics, why, sizeof(why))) {
		log_info("refused EventSource client: %s", why);
		return lws_return_http_status(wsi, HTTP_STATUS_BAD_REQUEST, why)
		           ? -1
		           : lws_http_transaction_completed(wsi);
	}
	if (lws_hdr_custom_copy(wsi, since, sizeof(since),
	                        "last-event-id:", 14) > 0)
		at = since;
	else
		at =
		    lws_get_urlarg_by_name(wsi, "since=", since, sizeof(since));
	if (session_open(app, &s->s, wsi, FAN_SSE, &f, at))
		return -1;
	if (write_headers(wsi, HTTP_STATUS_OK, "text/event-stream",
	                  LWS_ILLEGAL_HTTP_CONTENT_LEN, 1))
		return -1;
	/* A long-lived response: no transaction timeout applies to it. */
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	lws_callback_on_writable(wsi);
	return 0;
}

static int
writeable(struct lws *wsi, struct http_session *s)
{
	struct app *app = app_from_wsi(wsi);

	if (s->s.attached) {
		if (s->s.fan.closing)
			return -1;
		return session_writeable(app, &s->s);
	}
	if (!s->body)
		return 0;
	if (lws_write(wsi, (unsigned char *)s->body + LWS_PRE, (size_t)s->len,
	              LWS_WRITE_HTTP_FINAL) != s->len)
		return -1;
	free(s->body);
	s->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static void
end_session(struct lws *wsi, struct http_session *s)
{
	free(s->body);
	s->body = NULL;
	session_close(app_from_wsi(wsi), &s->s);
}

/*
 * The Content-Security-Policy of every page tickerd serves: its own
 * scripts, styles and connections only, nothing inline, no plugins; it may
 * be framed by itself and by the allowed origins (the wall display in a
 * newsroom's own dashboard).  Written into buf; returns its length.
 */
static int
content_security_policy(const struct cfg *c, char *buf, size_t len)
{
	int n = snprintf(buf, len,
	                 "default-src 'none'; script-src 'self'; "
	                 "style-src 'self'; img-src 'self' data:; "
	                 "font-src 'self'; connect-src 'self'; "
	                 "manifest-src 'self'; base-uri 'none'; "
	                 "form-action 'none'; frame-ancestors %s",
	                 c->any_origin ? "*" : "'self'");

	for (int i = 0; !c->any_origin && i < c->n_origins; i++)
		if (n > 0 && (size_t)n < len)
			n += snprintf(buf + n, len - (size_t)n, " %s",
			              c->origins[i]);
	return n > 0 && (size_t)n < len ? n : -1;
}

/*
 * Headers on every static file: CORS (ticker.js is loaded as a module by
 * pages on other origins), the CSP above, no MIME sniffing, and a
 * referrer policy that never leaks a reader's full URL elsewhere.
 */
static int
add_public_headers(struct lws *wsi, struct lws_process_html_args *args)
{
	unsigned char *p = (unsigned char *)args->p;
	unsigned char *end = p + args->max_len;
	char csp[CFG_MAX_ORIGINS * (CFG_ORIGIN_LEN + 1) + 512];
	int n =
	    content_security_policy(&app_from_wsi(wsi)->cfg, csp, sizeof(csp));

	if (n < 0 ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"access-control-allow-origin:",
	        (const unsigned char *)"*", 1, &p, end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"x-content-type-options:",
	        (const unsigned char *)"nosniff", 7, &p, end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"referrer-policy:",
	        (const unsigned char *)"strict-origin-when-cross-origin", 31,
	        &p, end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"content-security-policy:",
	        (const unsigned char *)csp, n, &p, end))
		return 1;
	args->p = (char *)p;
	return 0;
}

static int
callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
              void *in, size_t len)
{
	struct http_session *s = user;
	char uri[32];

	/* Keep the accept queue moving during long loop turns. */
	if (wsi)
		listener_poke(app_from_wsi(wsi)->listener);

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* Also reached for files the web mount does not have. */
		if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) >
		    0) {
			if (!strcmp(uri, "/healthz"))
				return serve_health(wsi, s);
			if (!strcmp(uri, "/events"))
				return serve_events(wsi, s);
			if (!strcmp(uri, "/metrics"))
				return serve_metrics(wsi, s);
		}
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return s ? writeable(wsi, s) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s)
			end_session(wsi, s);
		break;
	case LWS_CALLBACK_ADD_HEADERS:
		return add_public_headers(wsi, in);
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols http_protocol = {
    .name = "http",
    .callback = callback_http,
    .per_session_data_size = sizeof(struct http_session),
};
