/* reply.c: the answers the door writes: status line, the headers every
 * answer carries (security headers, length, caching), bodies. */
#include "door.h"

#include "app.h"
#include "http.h"
#include "metrics.h"
#include "request.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

#define HEAD_ROOM DOOR_HEAD_ROOM

/* The reason phrase of the statuses tickerd answers with. */
static const char *
reason_phrase(int status)
{
	switch (status) {
	case 101:
		return "Switching Protocols";
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 426:
		return "Upgrade Required";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/*
 * Write a response head into buf: the status line and every header
 * tickerd's answers carry.  len < 0 means no Content-Length (a stream, a
 * 304).  cache is the Cache-Control value; NULL: no-store for an answer
 * with a length, none for a stream (it says how it may be cached in
 * extra).  Returns its length, or -1 if it did not fit.
 */
static int
write_head(struct door_conn *c, char *buf, size_t size, int status,
           const char *type, long long len, const char *cache,
           const char *extra, int keep)
{
	char length[48] = "";
	int n;

	if (!cache && len >= 0)
		cache = "no-store";
	if (len >= 0)
		snprintf(length, sizeof(length), "Content-Length: %lld\r\n",
		         len);
	n = snprintf(buf, size,
	             "HTTP/1.1 %d %s\r\n"
	             "Server: %s\r\n"
	             "%s%s%s"
	             "%s%s%s%s"
	             "X-Content-Type-Options: nosniff\r\n"
	             "Referrer-Policy: strict-origin-when-cross-origin\r\n"
	             "Content-Security-Policy: %s\r\n"
	             "%s"
	             "Connection: %s\r\n\r\n",
	             status, reason_phrase(status), TICKERD_SERVER,
	             type ? "Content-Type: " : "", type ? type : "",
	             type ? "\r\n" : "", length, cache ? "Cache-Control: " : "",
	             cache ? cache : "", cache ? "\r\n" : "", door_app(c)->csp,
	             extra ? extra : "", keep ? "keep-alive" : "close");
	return n > 0 && (size_t)n < size ? n : -1;
}

/*
 * door_respond() with a Cache-Control value (NULL: no-store); a 304 goes
 * without Content-Type, Content-Length or body.
 */
static enum door_next
respond(struct door_conn *c, const struct request *r, int status,
        const char *type, const char *body, size_t len, const char *cache,
        const char *extra, int keep)
{
	char head[HEAD_ROOM];
	int hl;

	keep = keep && r && r->keep_alive;
	if (!type || status == 304)
		len = 0;
	hl = write_head(
	    c, head, sizeof(head), status, status == 304 ? NULL : type,
	    status == 304 ? -1 : (long long)len, cache, extra, keep);
	metrics_response(status);
	if (hl < 0 || door_write(c, head, (size_t)hl) ||
	    (len && (!r || r->method != REQ_HEAD) &&
	     door_write(c, body, len))) {
		door_answered(c, 0, 0);
		return DOOR_CLOSE;
	}
	door_answered(c, 1, keep);
	return keep ? DOOR_KEEP : DOOR_CLOSE;
}

enum door_next
door_respond(struct door_conn *c, const struct request *r, int status,
             const char *type, const char *body, size_t len, const char *extra,
             int keep)
{
	return respond(c, r, status, type, body, len, NULL, extra, keep);
}

enum door_next
door_respond_cached(struct door_conn *c, const struct request *r, int status,
                    const char *type, const char *body, size_t len,
                    const char *cache, const char *extra)
{
	return respond(c, r, status, type, body, len, cache, extra, 1);
}

enum door_next
door_refuse(struct door_conn *c, const struct request *r, int status,
            const char *reason, const char *extra)
{
	char body[160];
	int n = snprintf(body, sizeof(body), "%d %s: %s\n", status,
	                 reason_phrase(status), reason);

	door_respond(c, r, status, "text/plain; charset=utf-8", body,
	             n > 0 ? (size_t)n : 0, extra, 0);
	return DOOR_CLOSE;
}

int
door_stream_head(struct door_conn *c, int status, const char *type,
                 const char *extra, char *buf, size_t size)
{
	int hl = write_head(c, buf, size, status, type, -1, NULL, extra, 0);

	return hl < 0 || door_head_later(c, status) ? -1 : hl;
}
