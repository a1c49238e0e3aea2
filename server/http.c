/* http.c: /healthz, the JSON status a load balancer or operator reads. */
#include "http.h"

#include "app.h"
#include "history.h"
#include "metrics.h"
#include "redis_bridge.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* One per HTTP request on the /healthz mount: the body waiting to go. */
struct http_session {
	char body[512];
	int len;
};

/* Write the status body for app into s; returns the HTTP status. */
static int
render_health(struct app *app, struct http_session *s)
{
	enum rb_state st = rb_state(app->redis);
	int ok = st == RB_SUBSCRIBED;

	s->len = snprintf(
	    s->body, sizeof(s->body),
	    "{\"status\":\"%s\",\"redis\":\"%s\",\"clients\":%llu,"
	    "\"items\":%zu,\"uptime_s\":%lld,\"received\":%llu,"
	    "\"published\":%llu,\"retracted\":%llu,\"rejected\":%llu,"
	    "\"duplicates\":%llu,\"deliveries\":%llu,\"culled\":%llu}\n",
	    ok ? "ok" : "degraded", rb_state_name(st),
	    (unsigned long long)metrics.clients, history_count(app->history),
	    (long long)(time(NULL) - metrics.started),
	    (unsigned long long)metrics.received,
	    (unsigned long long)metrics.published,
	    (unsigned long long)metrics.retracted,
	    (unsigned long long)metrics.rejected,
	    (unsigned long long)metrics.duplicates,
	    (unsigned long long)metrics.deliveries,
	    (unsigned long long)metrics.culled);
	return ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE;
}

/* Send the headers now; the body follows from HTTP_WRITEABLE. */
static int
serve_health(struct lws *wsi, struct http_session *s)
{
	unsigned char headers[LWS_PRE + 512], *start = headers + LWS_PRE;
	unsigned char *p = start, *end = headers + sizeof(headers) - 1;
	int status = render_health(app_from_wsi(wsi), s);

	if (lws_add_http_common_headers(wsi, (unsigned)status,
	                                "application/json",
	                                (lws_filepos_t)s->len, &p, end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"cache-control:",
	        (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

/*
 * Headers on every static file: the front-end is public and ticker.js is
 * loaded as a module by pages on other origins, which needs CORS.
 */
static int
add_public_headers(struct lws *wsi, struct lws_process_html_args *args)
{
	unsigned char *p = (unsigned char *)args->p;
	unsigned char *end = p + args->max_len;

	if (lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"access-control-allow-origin:",
	        (const unsigned char *)"*", 1, &p, end) ||
	    lws_add_http_header_by_name(
	        wsi, (const unsigned char *)"x-content-type-options:",
	        (const unsigned char *)"nosniff", 7, &p, end))
		return 1;
	args->p = (char *)p;
	return 0;
}

static int
callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
              void *in, size_t len)
{
	struct http_session *s = user;
	unsigned char buf[LWS_PRE + sizeof(s->body)];

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		/* Also reached for files the web mount does not have. */
		if (lws_hdr_copy(wsi, (char *)buf, sizeof(buf),
		                 WSI_TOKEN_GET_URI) > 0 &&
		    !strcmp((char *)buf, "/healthz"))
			return serve_health(wsi, s);
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	case LWS_CALLBACK_ADD_HEADERS:
		return add_public_headers(wsi, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!s || !s->len)
			break;
		memcpy(buf + LWS_PRE, s->body, (size_t)s->len);
		if (lws_write(wsi, buf + LWS_PRE, (size_t)s->len,
		              LWS_WRITE_HTTP_FINAL) != s->len)
			return 1;
		s->len = 0;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
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
