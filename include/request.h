/* request.h: reading one HTTP/1.x request head, as a client sent it. */
#ifndef TICKERD_REQUEST_H
#define TICKERD_REQUEST_H

#include <stddef.h>
#include <time.h>

/* The largest request head (request line and headers) tickerd reads. */
#define REQ_HEAD_MAX 8192

/* A piece of the request bytes; p is NULL when absent. */
struct req_str {
	const char *p;
	size_t len;
};

enum req_method { REQ_GET, REQ_HEAD, REQ_POST, REQ_OTHER };

/*
 * One parsed request head.  Every string points into the bytes given to
 * request_parse(): it lives as long as they do.  Only the headers tickerd
 * acts on are kept; a header it keeps that came twice is counted, so that
 * the caller can refuse what it cannot read as one value.
 */
struct request {
	enum req_method method;
	struct req_str method_name;
	struct req_str path;  /* the target up to '?', as sent (not decoded) */
	struct req_str query; /* after '?' (p NULL when there is none) */
	int minor;            /* HTTP/1.<minor>: 0 or 1 */
	struct req_str host, origin, upgrade, connection, ws_key, ws_version,
	    last_event_id;
	/* What a file's answer depends on (read with request_fields.c's
	 * helpers).  A list sent in two header lines is not put back
	 * together: the first is kept and the *_twice flag set, and the
	 * answer does not act on it (a 200 in full, without gzip). */
	struct req_str if_none_match, if_modified_since, accept_encoding;
	unsigned if_none_match_twice : 1, if_modified_since_twice : 1,
	    accept_encoding_twice : 1;
	unsigned hosts, origins; /* how many Host, Origin headers came */
	struct req_str fields;   /* the header lines, each ending in LF */
	unsigned has_body : 1;   /* Transfer-Encoding, or Content-Length > 0 */
	/* What a POST's body is read by (door_body.c): Content-Length as
	 * sent (the first, *_twice when another came), Transfer-Encoding. */
	struct req_str content_length, transfer_encoding;
	unsigned content_length_twice : 1;
	/* A POST's body, once the door has all of it (not set by
	 * request_parse(): the bytes after the head). */
	struct req_str body;
	unsigned keep_alive : 1; /* the connection may serve another request */
	unsigned websocket : 1;  /* Upgrade: websocket + Connection: upgrade */
	size_t head_len; /* bytes of the head, its blank line included */
};

enum req_result {
	REQ_OK = 0,
	REQ_INCOMPLETE = 1, /* the head has not ended yet: read more */
	REQ_BAD = -1,       /* not an HTTP/1.x request: 400 */
	REQ_TOO_LARGE = -2, /* the head is past REQ_HEAD_MAX: 431 */
	REQ_VERSION = -3,   /* a version other than HTTP/1.0 and 1.1: 505 */
};

/*
 * request_parse() - read the request head at the start of buf[0..len):
 * REQ_OK with r filled (r->head_len bytes of buf are the head; what
 * follows is the next request), REQ_INCOMPLETE while its end has not
 * arrived, or the reason it can't be served.  Lines may end in CRLF or
 * LF; NUL and control characters, folded lines and malformed header
 * names are refused.
 */
enum req_result request_parse(struct request *r, const char *buf, size_t len);

/*
 * request_arg() - the value of query parameter name ("topics"), decoded
 * (%XX; '+' is kept) into out[0..out_len), NUL-terminated.  Returns its
 * length, -1 if the query has no such parameter, or -2 if the value is
 * longer than out_len - 1, holds a NUL or a malformed escape.  The first
 * occurrence counts.
 */
long request_arg(const struct request *r, const char *name, char *out,
                 size_t out_len);

/*
 * request_decode_path() - the path, decoded, into out (NUL-terminated);
 * its length, or -1 if it is malformed, too long, holds a NUL or a "..".
 */
long request_decode_path(const struct request *r, char *out, size_t out_len);

/* req_has_token() - 1 if the comma-separated list s holds token (any case). */
int req_has_token(struct req_str s, const char *token);

/* req_equals() - 1 if s is exactly text, compared without regard to case. */
int req_equals(struct req_str s, const char *text);

/*
 * request_fields.c: the values of the headers a file's answer depends on.
 */

/*
 * req_etag_listed() - 1 if the If-None-Match value s is "*" or lists etag
 * (a whole entity-tag, quotes included: "\"abc\""), compared weakly (a W/
 * on either side does not count, RFC 9110 8.8.3.2); 0 if it does not, and
 * for a value that is not a list of entity-tags.
 */
int req_etag_listed(struct req_str s, const char *etag);

/*
 * req_coding_q() - the weight, in thousandths (0-1000), that the
 * Accept-Encoding value s gives content coding (any case; "x-gzip" is
 * "gzip"): its own entry's (the first), else that of "*", else -1 when
 * neither is listed.  An entry whose q is malformed weighs 0.
 */
int req_coding_q(struct req_str s, const char *coding);

/*
 * req_http_date() - s as an HTTP-date (RFC 9110 5.6.7: IMF-fixdate, or the
 * obsolete RFC 850 and asctime forms) in *t, seconds since the epoch.
 * 0, or -1 if it is none of them.
 */
int req_http_date(struct req_str s, time_t *t);

#endif
