/* test_request.c: request heads, query arguments, paths (request.c). */
#include "unit.h"

#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum req_result
parse_n(const char *s, size_t len)
{
	struct request r;
	char *p = exact(s, len);
	enum req_result res = request_parse(&r, p, len);

	free(p);
	return res;
}

/* Fail unless s is absent and want NULL, or s is exactly want. */
static void
check_str(const char *what, const char *field, struct req_str s,
          const char *want)
{
	if (!want) {
		if (s.p || s.len)
			fail_msg("%s: %s is \"%.*s\", want none", what, field,
			         (int)s.len, s.p ? s.p : "");
		return;
	}
	if (!s.p || s.len != strlen(want) || memcmp(s.p, want, s.len))
		fail_msg("%s: %s is \"%.*s\", want \"%s\"", what, field,
		         (int)s.len, s.p ? s.p : "(none)", want);
}

/* What a request head from a real client must parse into. */
struct head_case {
	const char *name, *text;
	enum req_method method;
	const char *method_name, *path, *query; /* query NULL: no '?' */
	int minor;
	const char *host, *origin, *upgrade, *connection, *ws_key, *ws_version,
	    *last_event_id;
	unsigned hosts, origins, has_body, keep_alive, websocket;
	size_t head_len; /* 0: the whole text */
};

static const struct head_case heads[] = {
    {
        .name = "Chromium WebSocket upgrade",
        .text = "GET /ws?topics=breaking,world HTTP/1.1\r\n"
                "Host: ticker.example.org\r\n"
                "Connection: Upgrade\r\n"
                "Pragma: no-cache\r\n"
                "Cache-Control: no-cache\r\n"
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64) "
                "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
                "Safari/537.36\r\n"
                "Upgrade: websocket\r\n"
                "Origin: https://news.example\r\n"
                "Sec-WebSocket-Version: 13\r\n"
                "Accept-Encoding: gzip, deflate, br\r\n"
                "Accept-Language: fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7\r\n"
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; "
                "client_max_window_bits\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/ws",
        .query = "topics=breaking,world",
        .minor = 1,
        .host = "ticker.example.org",
        .origin = "https://news.example",
        .upgrade = "websocket",
        .connection = "Upgrade",
        .ws_key = "dGhlIHNhbXBsZSBub25jZQ==",
        .ws_version = "13",
        .hosts = 1,
        .origins = 1,
        .keep_alive = 1,
        .websocket = 1,
    },
    {
        .name = "Firefox WebSocket upgrade (keep-alive, Upgrade)",
        .text = "GET /ws?topics=world&since=1750750200000-3 HTTP/1.1\r\n"
                "Host: ticker.example.org\r\n"
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) "
                "Gecko/20100101 Firefox/121.0\r\n"
                "Accept: */*\r\n"
                "Accept-Language: fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3\r\n"
                "Accept-Encoding: gzip, deflate, br\r\n"
                "Sec-WebSocket-Version: 13\r\n"
                "Origin: https://news.example\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate\r\n"
                "Sec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n"
                "Connection: keep-alive, Upgrade\r\n"
                "Sec-Fetch-Dest: empty\r\n"
                "Sec-Fetch-Mode: websocket\r\n"
                "Sec-Fetch-Site: cross-site\r\n"
                "Pragma: no-cache\r\n"
                "Cache-Control: no-cache\r\n"
                "Upgrade: websocket\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/ws",
        .query = "topics=world&since=1750750200000-3",
        .minor = 1,
        .host = "ticker.example.org",
        .origin = "https://news.example",
        .upgrade = "websocket",
        .connection = "keep-alive, Upgrade",
        .ws_key = "x3JJHMbDL1EzLkh9GBhXDw==",
        .ws_version = "13",
        .hosts = 1,
        .origins = 1,
        .keep_alive = 1,
        .websocket = 1,
    },
    {
        .name = "Firefox EventSource reconnecting with Last-Event-ID",
        .text = "GET /events?topics=breaking%2Cworld HTTP/1.1\r\n"
                "Host: ticker.example.org\r\n"
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) "
                "Gecko/20100101 Firefox/121.0\r\n"
                "Accept: text/event-stream\r\n"
                "Accept-Language: fr,fr-FR;q=0.8,en-US;q=0.5,en;q=0.3\r\n"
                "Accept-Encoding: gzip, deflate, br\r\n"
                "Last-Event-ID: 1750750200000-3\r\n"
                "Referer: https://news.example/\r\n"
                "Origin: https://news.example\r\n"
                "Connection: keep-alive\r\n"
                "Sec-Fetch-Dest: empty\r\n"
                "Sec-Fetch-Mode: cors\r\n"
                "Sec-Fetch-Site: cross-site\r\n"
                "Pragma: no-cache\r\n"
                "Cache-Control: no-cache\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/events",
        .query = "topics=breaking%2Cworld",
        .minor = 1,
        .host = "ticker.example.org",
        .origin = "https://news.example",
        .connection = "keep-alive",
        .last_event_id = "1750750200000-3",
        .hosts = 1,
        .origins = 1,
        .keep_alive = 1,
    },
    {
        .name = "curl",
        .text = "GET /healthz HTTP/1.1\r\n"
                "Host: 127.0.0.1:8080\r\n"
                "User-Agent: curl/7.88.1\r\n"
                "Accept: */*\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/healthz",
        .minor = 1,
        .host = "127.0.0.1:8080",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "curl -I",
        .text = "HEAD /ticker.js HTTP/1.1\r\n"
                "Host: 127.0.0.1:8080\r\n"
                "User-Agent: curl/7.88.1\r\n"
                "Accept: */*\r\n"
                "\r\n",
        .method = REQ_HEAD,
        .method_name = "HEAD",
        .path = "/ticker.js",
        .minor = 1,
        .host = "127.0.0.1:8080",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "HTTP/1.0 without keep-alive",
        .text = "GET / HTTP/1.0\r\n\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/",
        .minor = 0,
    },
    {
        .name = "HTTP/1.0 with keep-alive (wget)",
        .text = "GET /wall.html?topics=breaking,world,sport HTTP/1.0\r\n"
                "User-Agent: Wget/1.21.3\r\n"
                "Accept: */*\r\n"
                "Accept-Encoding: identity\r\n"
                "Host: ticker.example.org\r\n"
                "Connection: Keep-Alive\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/wall.html",
        .query = "topics=breaking,world,sport",
        .minor = 0,
        .host = "ticker.example.org",
        .connection = "Keep-Alive",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "HTTP/1.1 with Connection: close",
        .text = "GET /metrics HTTP/1.1\r\nHost: localhost\r\n"
                "Connection: close\r\n\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/metrics",
        .minor = 1,
        .host = "localhost",
        .connection = "close",
        .hosts = 1,
    },
    {
        .name = "LF-only line ends (printf | nc)",
        .text = "GET /index.html HTTP/1.1\nHost: localhost\nOrigin: null\n\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/index.html",
        .minor = 1,
        .host = "localhost",
        .origin = "null",
        .hosts = 1,
        .origins = 1,
        .keep_alive = 1,
    },
    {
        .name = "leading empty lines (CRLF)",
        .text = "\r\n\r\nGET /ticker.js HTTP/1.1\r\nHost: a\r\n\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/ticker.js",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "leading empty lines (LF)",
        .text = "\n\n\nGET / HTTP/1.1\nHost: a\n\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "OPTIONS *",
        .text = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        .method = REQ_OTHER,
        .method_name = "OPTIONS",
        .path = "*",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "a lowercase method is not GET",
        .text = "get / HTTP/1.1\r\nHost: a\r\n\r\n",
        .method = REQ_OTHER,
        .method_name = "get",
        .path = "/",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "absolute form for another method",
        .text = "Get http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
        .method = REQ_OTHER,
        .method_name = "Get",
        .path = "http://a/",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
    {
        .name = "POST with a body after the head",
        .text = "POST /ws HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\n"
                "Content-Length: 5\r\n\r\nhello",
        .method = REQ_OTHER,
        .method_name = "POST",
        .path = "/ws",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .has_body = 1,
        .keep_alive = 1,
        .head_len = 75,
    },
    {
        .name = "chunked",
        .text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                "\r\n",
        .method = REQ_OTHER,
        .method_name = "POST",
        .path = "/",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .has_body = 1,
        .keep_alive = 1,
    },
    {
        .name = "values trimmed, names in any case, tabs in values",
        .text = "GET /?x HTTP/1.1\r\nhOST:\ta b \t\r\nORIGIN:x\r\n"
                "upgrade:  WebSocket  \r\nCONNECTION: \tupgrade\t\r\n"
                "sec-websocket-key:k\r\nSEC-WEBSOCKET-VERSION: 13 \r\n"
                "last-event-id:   \r\nX-Empty:\r\n\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/",
        .query = "x",
        .minor = 1,
        .host = "a b",
        .origin = "x",
        .upgrade = "WebSocket",
        .connection = "upgrade",
        .ws_key = "k",
        .ws_version = "13",
        .last_event_id = "",
        .hosts = 1,
        .origins = 1,
        .keep_alive = 1,
        .websocket = 1,
    },
    {
        .name = "bytes past ASCII in a header value",
        .text = "GET /? HTTP/1.1\r\nHost: a\r\nX-Title: caf\xc3\xa9 \xe9\r\n"
                "\r\n",
        .method = REQ_GET,
        .method_name = "GET",
        .path = "/",
        .query = "",
        .minor = 1,
        .host = "a",
        .hosts = 1,
        .keep_alive = 1,
    },
};

/* Check r against what c says it must be; buf is where r points. */
static void
check_head(const struct head_case *c, const struct request *r, const char *buf)
{
	size_t head_len = c->head_len ? c->head_len : strlen(c->text);

	CHECK_INT(c->name, r->method, c->method);
	check_str(c->name, "method_name", r->method_name, c->method_name);
	check_str(c->name, "path", r->path, c->path);
	check_str(c->name, "query", r->query, c->query);
	CHECK_INT(c->name, r->minor, c->minor);
	check_str(c->name, "host", r->host, c->host);
	check_str(c->name, "origin", r->origin, c->origin);
	check_str(c->name, "upgrade", r->upgrade, c->upgrade);
	check_str(c->name, "connection", r->connection, c->connection);
	check_str(c->name, "ws_key", r->ws_key, c->ws_key);
	check_str(c->name, "ws_version", r->ws_version, c->ws_version);
	check_str(c->name, "last_event_id", r->last_event_id, c->last_event_id);
	CHECK_INT(c->name, r->hosts, c->hosts);
	CHECK_INT(c->name, r->origins, c->origins);
	CHECK_INT(c->name, r->has_body, c->has_body);
	CHECK_INT(c->name, r->keep_alive, c->keep_alive);
	CHECK_INT(c->name, r->websocket, c->websocket);
	CHECK_INT(c->name, r->head_len, head_len);
	/* Pieces point into the buffer given, not into a copy. */
	assert_ptr_equal(r->method_name.p,
	                 buf + (c->text[0] == '\r' || c->text[0] == '\n'
	                            ? strspn(c->text, "\r\n")
	                            : 0));
}

/* Requests as browsers, curl and wget send them parse into their parts. */
static void
test_real_clients(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(heads); i++) {
		size_t len = strlen(heads[i].text);
		char *buf = exact(heads[i].text, len);
		struct request r;

		CHECK_INT(heads[i].name, request_parse(&r, buf, len), REQ_OK);
		check_head(&heads[i], &r, buf);
		free(buf);
	}
}

/*
 * Every head cut short at any byte is REQ_INCOMPLETE, and whole, the same
 * request, with or without what follows it.
 */
static void
test_incomplete_at_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < N_OF(heads); i++) {
		const struct head_case *c = &heads[i];
		size_t len = strlen(c->text);
		size_t head = c->head_len ? c->head_len : len;
		char *buf = malloc(len + 20);
		struct request r;

		assert_non_null(buf);
		for (size_t k = 0; k < head; k++) {
			char *cut = exact(c->text, k);

			if (request_parse(&r, cut, k) != REQ_INCOMPLETE)
				fail_msg("%s: cut after %zu of %zu bytes: %d",
				         c->name, k, head,
				         request_parse(&r, cut, k));
			free(cut);
		}
		memcpy(buf, c->text, len);
		memcpy(buf + len, "GET / HTTP/1.1\r\nHos", 19);
		CHECK_INT(c->name, request_parse(&r, buf, head), REQ_OK);
		check_head(c, &r, buf);
		CHECK_INT(c->name, request_parse(&r, buf, len + 19), REQ_OK);
		check_head(c, &r, buf);
		free(buf);
	}
}

/* Heads one after another: head_len leads from each to the next. */
static void
test_pipelined(void **state)
{
	static const char in[] = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
	                         "HEAD /ticker.js HTTP/1.1\nHost: a\n\n"
	                         "\r\n" /* a stray CRLF, as after a body */
	                         "GET /metrics HTTP/1.1\r\nHost: a\r\n"
	                         "Connection: close\r\n\r\n"
	                         "GET /ws HTTP/1.1\r\nUpgrade: webso";
	static const struct {
		const char *path;
		enum req_method method;
		size_t head_len;
		unsigned keep_alive;
	} want[] = {
	    {"/healthz", REQ_GET, 34, 1},
	    {"/ticker.js", REQ_HEAD, 34, 1},
	    {"/metrics", REQ_GET, 55, 0},
	};
	size_t len = sizeof(in) - 1, at = 0;
	char *buf = exact(in, len);
	struct request r;

	(void)state;
	for (size_t i = 0; i < N_OF(want); i++) {
		assert_int_equal(request_parse(&r, buf + at, len - at), REQ_OK);
		check_str("pipelined", "path", r.path, want[i].path);
		assert_int_equal(r.method, want[i].method);
		assert_int_equal(r.head_len, want[i].head_len);
		assert_int_equal(r.keep_alive, want[i].keep_alive);
		at += r.head_len;
	}
	assert_memory_equal(buf + at, "GET /ws", 7);
	assert_int_equal(request_parse(&r, buf + at, len - at), REQ_INCOMPLETE);
	free(buf);
}

/*
 * A head of a request line, a padding header and the blank line, exactly
 * size bytes long (size >= 40); the caller frees it.
 */
static char *
head_of_size(size_t size, const char *eol)
{
	char *buf = malloc(size);
	size_t el = strlen(eol);
	int n;

	assert_non_null(buf);
	n = snprintf(buf, size, "GET / HTTP/1.1%sX-Pad: ", eol);
	assert_true(n > 0 && (size_t)n + 2 * el < size);
	memset(buf + n, 'p', size - (size_t)n - 2 * el);
	memcpy(buf + size - 2 * el, eol, el);
	memcpy(buf + size - el, eol, el);
	return buf;
}

/* Heads up to REQ_HEAD_MAX bytes are read, a byte more is REQ_TOO_LARGE. */
static void
test_too_large(void **state)
{
	const char *const eols[] = {"\r\n", "\n"};
	struct request r;
	char *buf;

	(void)state;
	for (size_t e = 0; e < N_OF(eols); e++) {
		buf = head_of_size(REQ_HEAD_MAX, eols[e]);
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX), REQ_OK);
		assert_int_equal(r.head_len, REQ_HEAD_MAX);
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX - 1),
		                 REQ_INCOMPLETE);
		free(buf);

		buf = head_of_size(REQ_HEAD_MAX + 1, eols[e]);
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX + 1),
		                 REQ_TOO_LARGE);
		/* Without its last byte it could still end in time... */
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX),
		                 REQ_INCOMPLETE);
		free(buf);

		/* ...and a larger head followed by more bytes can not. */
		buf = head_of_size(REQ_HEAD_MAX + 100, eols[e]);
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX + 1),
		                 REQ_TOO_LARGE);
		assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX + 100),
		                 REQ_TOO_LARGE);
		free(buf);
	}

	/* A request line that never ends. */
	buf = malloc(REQ_HEAD_MAX + 1);
	assert_non_null(buf);
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', REQ_HEAD_MAX + 1 - 5);
	assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX), REQ_INCOMPLETE);
	assert_int_equal(request_parse(&r, buf, REQ_HEAD_MAX + 1),
	                 REQ_TOO_LARGE);
	free(buf);

	/* Many short headers add up. */
	buf = malloc(REQ_HEAD_MAX + 64);
	assert_non_null(buf);
	{
		size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");

		while (n < REQ_HEAD_MAX + 8)
			n += (size_t)sprintf(buf + n, "A: b\r\n");
		memcpy(buf + n, "\r\n", 2);
		assert_int_equal(request_parse(&r, buf, n + 2), REQ_TOO_LARGE);
	}
	free(buf);
}

/* HTTP/1.0 and 1.1 are served; other versions are REQ_VERSION. */
static void
test_versions(void **state)
{
	static const struct {
		const char *version;
		enum req_result want;
	} cases[] = {
	    {"HTTP/1.1", REQ_OK},
	    {"HTTP/1.0", REQ_OK},
	    {"HTTP/2.0", REQ_VERSION},
	    {"HTTP/1.2", REQ_VERSION},
	    {"HTTP/0.9", REQ_VERSION},
	    {"HTTP/3.0", REQ_VERSION},
	    {"HTTP/1.9", REQ_VERSION},
	    {"HTTP/9.1", REQ_VERSION},
	    {"HTTP/1.10", REQ_BAD},
	    {"HTTP/1", REQ_BAD},
	    {"HTTP/11", REQ_BAD},
	    {"HTTP/2", REQ_BAD},
	    {"http/1.1", REQ_BAD},
	    {"HTTP/1.x", REQ_BAD},
	    {"HTTP/a.1", REQ_BAD},
	    {"HTTPS/1.1", REQ_BAD},
	    {"HTTP/1.1 ", REQ_BAD},
	    {"HTTP/1,1", REQ_BAD},
	    {"", REQ_BAD},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		int n =
		    snprintf(buf, sizeof(buf), "GET / %s\r\nHost: a\r\n\r\n",
		             cases[i].version);

		CHECK_INT(cases[i].version, parse_n(buf, (size_t)n),
		          cases[i].want);
	}
	/* HTTP/0.9's bare "GET /" has no version at all. */
	assert_int_equal(parse_n(S("GET /\r\n\r\n")), REQ_BAD);
	assert_int_equal(parse_n(S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")),
	                 REQ_VERSION);
}

/* Malformed heads: REQ_BAD, and the well-formed ones beside them not. */
static void
test_bad_heads(void **state)
{
	static const struct {
		const char *name, *in;
		size_t len;
		enum req_result want;
	} cases[] = {
	    {"space before the colon", S("GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
	     REQ_BAD},
	    {"tab before the colon", S("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n"),
	     REQ_BAD},
	    {"folded line (space)",
	     S("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n two\r\n\r\n"),
	     REQ_BAD},
	    {"folded line (tab)",
	     S("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n\ttwo\r\n\r\n"),
	     REQ_BAD},
	    {"folded line with a colon",
	     S("GET / HTTP/1.1\r\nHost: a\r\n Origin: b\r\n\r\n"), REQ_BAD},
	    {"folded first header", S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
	     REQ_BAD},
	    {"empty header name", S("GET / HTTP/1.1\r\n: a\r\n\r\n"), REQ_BAD},
	    {"no colon", S("GET / HTTP/1.1\r\nHost a\r\n\r\n"), REQ_BAD},
	    {"blank-only line", S("GET / HTTP/1.1\r\n \r\n\r\n"), REQ_BAD},
	    {"name past ASCII", S("GET / HTTP/1.1\r\nH\xc3\xa9: a\r\n\r\n"),
	     REQ_BAD},
	    {"separator in a name", S("GET / HTTP/1.1\r\nX(a): b\r\n\r\n"),
	     REQ_BAD},
	    {"colon in a value is fine",
	     S("GET / HTTP/1.1\r\nHost: a:8080\r\nX: :\r\n\r\n"), REQ_OK},
	    {"token characters in a name are fine",
	     S("GET / HTTP/1.1\r\nX-!#$%&'*+.^_`|~1: b\r\n\r\n"), REQ_OK},
	    {"request line alone", S("GET /\r\n\r\n"), REQ_BAD},
	    {"request line, one word", S("GET\r\n\r\n"), REQ_BAD},
	    {"no target", S("GET HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"two spaces", S("GET  / HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"space first", S(" GET / HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"no method", S("/ HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"tab for a space", S("GET\t/ HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"space in the target", S("GET /a b HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"trailing word", S("GET / HTTP/1.1 x\r\n\r\n"), REQ_BAD},
	    {"separator in the method", S("G(T / HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"DEL in the target", S("GET /\x7f HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"empty request line", S("\r\n\r\n\r\n\r\n\r\nx"), REQ_BAD},
	    {"absolute form for GET",
	     S("GET http://ticker.example.org/ HTTP/1.1\r\nHost: a\r\n\r\n"),
	     REQ_BAD},
	    {"absolute form for HEAD", S("HEAD http://a/ HTTP/1.1\r\n\r\n"),
	     REQ_BAD},
	    {"asterisk for GET", S("GET * HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"query only for GET", S("GET ?a HTTP/1.1\r\n\r\n"), REQ_BAD},
	    {"CR CR LF", S("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), REQ_BAD},
	    {"bare CR as a line end", S("GET / HTTP/1.1\rHost: a\r\n\r\n"),
	     REQ_BAD},
	    {"bare CR before the request line",
	     S("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), REQ_BAD},
	    {"CR CR LF before the request line",
	     S("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), REQ_BAD},
	    {"bare CR in the blank line",
	     S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), REQ_BAD},
	    {"NUL in a line not ended yet", S("GET /\0"), REQ_BAD},
	    {"NUL in a header not ended yet", S("GET / HTTP/1.1\r\nHost: a\0"),
	     REQ_BAD},
	    {"a control not ended yet waits for its line",
	     S("GET / HTTP/1.1\r\nHost: a\x01"), REQ_INCOMPLETE},
	    {"tab in a value is fine", S("GET / HTTP/1.1\r\nX: a\tb\r\n\r\n"),
	     REQ_OK},
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++)
		CHECK_INT(cases[i].name, parse_n(cases[i].in, cases[i].len),
		          cases[i].want);
}

/* A flood of empty lines is refused, not read for ever. */
static void
test_empty_line_flood(void **state)
{
	size_t len = 10000;
	char *buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < len; i += 2)
		memcpy(buf + i, "\r\n", 2);
	assert_int_equal(request_parse(&(struct request){0}, buf, len),
	                 REQ_BAD);
	memset(buf, '\n', len);
	assert_int_equal(request_parse(&(struct request){0}, buf, len),
	                 REQ_BAD);
	free(buf);
}

/*
 * In a valid head, a NUL at any byte is REQ_BAD; so is any other control
 * character (a bare CR included) in place of any byte but a line's LF.
 */
static void
test_nul_and_controls_anywhere(void **state)
{
	static const char base[] = "GET /ws?topics=a HTTP/1.1\r\n"
	                           "Host: a\r\nUpgrade: websocket\r\n"
	                           "X-Tab: a\tb\r\n\r\n";
	static const char controls[] = {0x00, 0x01, 0x08, 0x0b, 0x0c,
	                                0x0d, 0x1b, 0x1f, 0x7f};
	size_t len = sizeof(base) - 1;
	char *buf = malloc(len);
	struct request r;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, base, len);
	assert_int_equal(request_parse(&r, buf, len), REQ_OK);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < N_OF(controls); k++) {
			enum req_result res;

			if (buf[i] == controls[k] ||
			    (base[i] == '\n' && controls[k]))
				continue;
			buf[i] = controls[k];
			res = request_parse(&r, buf, len);
			buf[i] = base[i];
			if (res != REQ_BAD)
				fail_msg("0x%02x at byte %zu: %d, want REQ_BAD",
				         (unsigned char)controls[k], i, res);
		}
	}
	free(buf);
}

/*
 * The headers tickerd reads as one value may come once: a second one, in
 * any case, is REQ_BAD.  Host and Origin are counted instead.
 */
static void
test_duplicate_headers(void **state)
{
	static const char *const single[][2] = {
	    {"Upgrade", "websocket"},
	    {"Connection", "Upgrade"},
	    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
	    {"Sec-WebSocket-Version", "13"},
	    {"Last-Event-ID", "1750750200000-3"},
	};
	struct request r;
	char buf[256];
	int n;

	(void)state;
	for (size_t i = 0; i < N_OF(single); i++) {
		const char *name = single[i][0], *v = single[i][1];

		n = snprintf(buf, sizeof(buf),
		             "GET /ws HTTP/1.1\r\nHost: a\r\n%s: %s\r\n\r\n",
		             name, v);
		CHECK_INT(name, parse_n(buf, (size_t)n), REQ_OK);
		n = snprintf(buf, sizeof(buf),
		             "GET /ws HTTP/1.1\r\n%s: %s\r\nHost: a\r\n"
		             "%s: %s\r\n\r\n",
		             name, v, name, v);
		CHECK_INT(name, parse_n(buf, (size_t)n), REQ_BAD);
		/* The same header in another case is the same header. */
		n = snprintf(buf, sizeof(buf),
		             "GET /ws HTTP/1.1\r\n%s: %s\r\nHOST: a\r\n"
		             "%c%s:\r\n\r\n",
		             name, v, name[0] ^ 0x20, name + 1);
		CHECK_INT(name, parse_n(buf, (size_t)n), REQ_BAD);
	}

	n = snprintf(buf, sizeof(buf),
	             "GET /ws HTTP/1.1\r\nHost: a\r\nhost: b\r\nOrigin: x\r\n"
	             "ORIGIN: y\r\norigin: z\r\n\r\n");
	assert_int_equal(request_parse(&r, buf, (size_t)n), REQ_OK);
	assert_int_equal(r.hosts, 2);
	assert_int_equal(r.origins, 3);
	n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nOrigin: x\r\n\r\n");
	assert_int_equal(request_parse(&r, buf, (size_t)n), REQ_OK);
	assert_int_equal(r.hosts, 0);
	assert_int_equal(r.origins, 1);
	assert_null(r.host.p);
}

/* Content-Length is digits only; anything but zero is a body. */
static void
test_content_length(void **state)
{
	static const struct {
		const char *value;
		enum req_result want;
		unsigned has_body;
	} cases[] = {
	    {"0", REQ_OK, 0},
	    {"000", REQ_OK, 0},
	    {" 0 ", REQ_OK, 0},
	    {"5", REQ_OK, 1},
	    {"010", REQ_OK, 1},
	    {"\t12\t", REQ_OK, 1},
	    {"18446744073709551616", REQ_OK, 1},
	    {"", REQ_BAD, 0},
	    {" ", REQ_BAD, 0},
	    {"abc", REQ_BAD, 0},
	    {"-1", REQ_BAD, 0},
	    {"+1", REQ_BAD, 0},
	    {"1 2", REQ_BAD, 0},
	    {"1,1", REQ_BAD, 0},
	    {"0x10", REQ_BAD, 0},
	    {"1.0", REQ_BAD, 0},
	    {"5a", REQ_BAD, 0},
	};
	struct request r;
	char buf[128];

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		int n = snprintf(buf, sizeof(buf),
		                 "POST / HTTP/1.1\r\nContent-Length:%s\r\n"
		                 "Host: a\r\n\r\n",
		                 cases[i].value);
		char *p = exact(buf, (size_t)n);
		enum req_result res = request_parse(&r, p, (size_t)n);

		CHECK_INT(cases[i].value, res, cases[i].want);
		if (res == REQ_OK)
			CHECK_INT(cases[i].value, r.has_body,
			          cases[i].has_body);
		free(p);
	}
}

/* keep_alive follows the version and Connection; websocket needs both. */
static void
test_flags(void **state)
{
	static const struct {
		int minor;
		const char *connection, *upgrade; /* NULL: header absent */
		unsigned keep_alive, websocket;
	} cases[] = {
	    {1, NULL, NULL, 1, 0},
	    {1, "close", NULL, 0, 0},
	    {1, "Close", NULL, 0, 0},
	    {1, "keep-alive, close", NULL, 0, 0},
	    {1, "closed", NULL, 1, 0},
	    {1, "keep-alive", NULL, 1, 0},
	    {0, NULL, NULL, 0, 0},
	    {0, "keep-alive", NULL, 1, 0},
	    {0, "Keep-Alive", NULL, 1, 0},
	    {0, "close", NULL, 0, 0},
	    {0, "keep-alive-ish", NULL, 0, 0},
	    {1, "Upgrade", "websocket", 1, 1},
	    {1, "keep-alive, Upgrade", "WebSocket", 1, 1},
	    {1, "upgrade", "websocket, h2c", 1, 1},
	    {1, "close, upgrade", "websocket", 0, 1},
	    {0, "Upgrade", "websocket", 0, 1},
	    {1, "Upgrade", "h2c", 1, 0},
	    {1, "Upgrade", "websockets", 1, 0},
	    {1, NULL, "websocket", 1, 0},
	    {1, "Upgrade", NULL, 1, 0},
	    {1, "keep-alive", "websocket", 1, 0},
	    {1, "Upgrade", "", 1, 0},
	};
	struct request r;
	char buf[256];

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		char what[128];
		int n = snprintf(
		    buf, sizeof(buf),
		    "GET /ws HTTP/1.%d\r\nHost: a\r\n%s%s%s%s%s%s\r\n",
		    cases[i].minor, cases[i].connection ? "Connection: " : "",
		    cases[i].connection ? cases[i].connection : "",
		    cases[i].connection ? "\r\n" : "",
		    cases[i].upgrade ? "Upgrade: " : "",
		    cases[i].upgrade ? cases[i].upgrade : "",
		    cases[i].upgrade ? "\r\n" : "");

		snprintf(what, sizeof(what), "HTTP/1.%d, %s, %s",
		         cases[i].minor,
		         cases[i].connection ? cases[i].connection : "-",
		         cases[i].upgrade ? cases[i].upgrade : "-");
		CHECK_INT(what, request_parse(&r, buf, (size_t)n), REQ_OK);
		CHECK_INT(what, r.keep_alive, cases[i].keep_alive);
		CHECK_INT(what, r.websocket, cases[i].websocket);
	}
}

/* Query parameters: the first occurrence, decoded, within bounds. */
static void
test_request_arg(void **state)
{
	static const struct {
		const char *target, *name;
		size_t out_len;
		long want;       /* length, -1 absent, -2 refused */
		const char *out; /* when want >= 0 */
	} cases[] = {
	    {"/ws?topics=a,b", "topics", 64, 3, "a,b"},
	    {"/ws?topics=a%2Cb", "topics", 64, 3, "a,b"},
	    {"/ws?topics=a%2cb", "topics", 64, 3, "a,b"},
	    {"/ws?topics=a+b", "topics", 64, 3, "a+b"},
	    {"/ws?topics=a%2Bb%20c", "topics", 64, 5, "a+b c"},
	    {"/ws?topics=%e2%80%99", "topics", 64, 3, "\xe2\x80\x99"},
	    {"/ws?topics=first&topics=second", "topics", 64, 5, "first"},
	    {"/ws?topicsx=1&topics=2", "topics", 64, 1, "2"},
	    {"/ws?xtopics=1&topics=2", "topics", 64, 1, "2"},
	    {"/ws?topic=1&topics=2", "topics", 64, 1, "2"},
	    {"/ws?topics=1", "topic", 64, -1, NULL},
	    {"/ws?topics=1", "topicsx", 64, -1, NULL},
	    {"/ws?since=1-2&topics=x", "since", 64, 3, "1-2"},
	    {"/ws?a=1&&topics=x&", "topics", 64, 1, "x"},
	    {"/ws?topics=a=b", "topics", 64, 3, "a=b"},
	    {"/ws?topics", "topics", 64, 0, ""},
	    {"/ws?topics=", "topics", 64, 0, ""},
	    {"/ws?topics=&topics=x", "topics", 64, 0, ""},
	    {"/ws?%74opics=x", "topics", 64, -1, NULL},
	    {"/ws?since=1", "topics", 64, -1, NULL},
	    {"/ws", "topics", 64, -1, NULL},
	    {"/ws?", "topics", 64, -1, NULL},
	    {"/ws?=x", "topics", 64, -1, NULL},
	    {"/ws?topics=abc", "topics", 4, 3, "abc"},
	    {"/ws?topics=abcd", "topics", 4, -2, NULL},
	    {"/ws?topics=%41%42%43", "topics", 4, 3, "ABC"},
	    {"/ws?topics=%41%42%43%44", "topics", 4, -2, NULL},
	    {"/ws?topics=", "topics", 1, 0, ""},
	    {"/ws?topics=a", "topics", 1, -2, NULL},
	    {"/ws?topics=a%00b", "topics", 64, -2, NULL},
	    {"/ws?topics=%", "topics", 64, -2, NULL},
	    {"/ws?topics=a%", "topics", 64, -2, NULL},
	    {"/ws?topics=%4", "topics", 64, -2, NULL},
	    {"/ws?topics=%4&x=1", "topics", 64, -2, NULL},
	    {"/ws?topics=%zz", "topics", 64, -2, NULL},
	    {"/ws?topics=%4g", "topics", 64, -2, NULL},
	    {"/ws?topics=%g4", "topics", 64, -2, NULL},
	    {"/ws?topics=%%41", "topics", 64, -2, NULL},
	    {"/ws?topics=ok&since=%zz", "topics", 64, 2, "ok"},
	    {"/ws?topics=%zz&topics=ok", "topics", 64, -2, NULL},
	};
	char buf[256], out[64];
	struct request r;

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		int n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n\r\n",
		                 cases[i].target);
		long got;

		CHECK_INT(cases[i].target, request_parse(&r, buf, (size_t)n),
		          REQ_OK);
		memset(out, 'X', sizeof(out));
		got = request_arg(&r, cases[i].name, out, cases[i].out_len);
		CHECK_INT(cases[i].target, got, cases[i].want);
		if (got >= 0 && strcmp(out, cases[i].out))
			fail_msg("%s: %s is \"%s\", want \"%s\"",
			         cases[i].target, cases[i].name, out,
			         cases[i].out);
		/* Nothing written past out_len. */
		if (cases[i].out_len < sizeof(out))
			assert_int_equal(out[cases[i].out_len], 'X');
	}
}

/*
 * Decoding stays within the piece it was given: an escape cut short by
 * its end is refused even when the bytes after it would complete it.
 */
static void
test_decode_within_bounds(void **state)
{
	static const char query[] = "topics=%41&", path[] = "/a%41?";
	struct request r;
	char out[16];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.query = (struct req_str){query, 10};
	assert_int_equal(request_arg(&r, "topics", out, sizeof(out)), 1);
	assert_string_equal(out, "A");
	r.query.len = 9; /* "topics=%4" */
	assert_int_equal(request_arg(&r, "topics", out, sizeof(out)), -2);
	r.query.len = 8; /* "topics=%" */
	assert_int_equal(request_arg(&r, "topics", out, sizeof(out)), -2);
	r.query.len = 6; /* "topics" */
	assert_int_equal(request_arg(&r, "topics", out, sizeof(out)), 0);
	r.query.len = 5; /* "topic" */
	assert_int_equal(request_arg(&r, "topics", out, sizeof(out)), -1);

	r.path = (struct req_str){path, 5};
	assert_int_equal(request_decode_path(&r, out, sizeof(out)), 3);
	assert_string_equal(out, "/aA");
	r.path.len = 4; /* "/a%4" */
	assert_int_equal(request_decode_path(&r, out, sizeof(out)), -1);
	r.path.len = 3; /* "/a%" */
	assert_int_equal(request_decode_path(&r, out, sizeof(out)), -1);
}

/* The path decoded, with no "." or ".." segment however it is written. */
static void
test_decode_path(void **state)
{
	static const struct {
		const char *target;
		size_t out_len;
		const char *want; /* NULL: -1 */
	} cases[] = {
	    {"/", 64, "/"},
	    {"/ticker.js", 64, "/ticker.js"},
	    {"/wall.html?topics=a", 64, "/wall.html"},
	    {"/a%20b", 64, "/a b"},
	    {"/caf%C3%A9", 64, "/caf\xc3\xa9"},
	    {"/a+b", 64, "/a+b"},
	    {"/a%2Fb", 64, "/a/b"},
	    {"/...", 64, "/..."},
	    {"/.hidden", 64, "/.hidden"},
	    {"/a..b/..c/d..", 64, "/a..b/..c/d.."},
	    {"//a", 64, "//a"},
	    {"/..", 64, NULL},
	    {"/../etc/passwd", 64, NULL},
	    {"/a/..", 64, NULL},
	    {"/a/../b", 64, NULL},
	    {"/a/../", 64, NULL},
	    {"//..", 64, NULL},
	    {"/.", 64, NULL},
	    {"/./a", 64, NULL},
	    {"/a/.", 64, NULL},
	    {"/a/./b", 64, NULL},
	    {"/%2e%2e/etc/passwd", 64, NULL},
	    {"/%2E%2E", 64, NULL},
	    {"/.%2e/x", 64, NULL},
	    {"/%2e./x", 64, NULL},
	    {"/%2e", 64, NULL},
	    {"/a%2f..%2fb", 64, NULL},
	    {"/a%2F%2E%2E", 64, NULL},
	    {"*", 64, NULL}, /* OPTIONS * (not a GET: see below) */
	    {"/%00", 64, NULL},
	    {"/a%00b", 64, NULL},
	    {"/%", 64, NULL},
	    {"/%2", 64, NULL},
	    {"/%zz", 64, NULL},
	    {"/abc", 5, "/abc"},
	    {"/abcd", 5, NULL},
	    {"/%61%62%63", 5, "/abc"},
	    {"/", 1, NULL},
	};
	char buf[256], out[64];
	struct request r;

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		/* OPTIONS takes targets GET refuses: "*". */
		int n = snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\n\r\n",
		                 cases[i].target[0] == '/' ? "GET" : "OPTIONS",
		                 cases[i].target);
		long got;

		CHECK_INT(cases[i].target, request_parse(&r, buf, (size_t)n),
		          REQ_OK);
		memset(out, 'X', sizeof(out));
		got = request_decode_path(&r, out, cases[i].out_len);
		if (!cases[i].want) {
			CHECK_INT(cases[i].target, got, -1);
			continue;
		}
		CHECK_INT(cases[i].target, got, strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
	}
}

/* Comma-separated lists: whole elements, any case, blanks around. */
static void
test_has_token(void **state)
{
	static const struct {
		const char *list, *token;
		int want;
	} cases[] = {
	    {"Upgrade", "upgrade", 1},
	    {"UPGRADE", "upgrade", 1},
	    {"keep-alive, Upgrade", "upgrade", 1},
	    {"keep-alive,Upgrade", "upgrade", 1},
	    {"Upgrade, keep-alive", "upgrade", 1},
	    {" \tupgrade\t , x", "upgrade", 1},
	    {"a,,upgrade,", "upgrade", 1},
	    {"upgraded", "upgrade", 0},
	    {"xupgrade", "upgrade", 0},
	    {"up grade", "upgrade", 0},
	    {"upgrade x", "upgrade", 0},
	    {"keep-alive-ish", "keep-alive", 0},
	    {"close, keep-alive", "keep-alive", 1},
	    {"", "upgrade", 0},
	    {",", "upgrade", 0},
	};
	struct req_str none = {NULL, 0};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		size_t len = strlen(cases[i].list);
		char *p = exact(cases[i].list, len);
		struct req_str s = {p, len};

		CHECK_INT(cases[i].list, req_has_token(s, cases[i].token),
		          cases[i].want);
		free(p);
	}
	assert_false(req_has_token(none, "upgrade"));
	/* Only the first len bytes count. */
	assert_false(req_has_token((struct req_str){"closed", 4}, "closed"));
	assert_true(req_has_token((struct req_str){"close,d", 5}, "close"));
}

/* Whole strings, any case; an absent string equals nothing. */
static void
test_equals(void **state)
{
	(void)state;
	assert_true(req_equals((struct req_str){"/ws", 3}, "/ws"));
	assert_true(req_equals((struct req_str){"WebSocket", 9}, "websocket"));
	assert_false(req_equals((struct req_str){"/ws", 3}, "/wsx"));
	assert_false(req_equals((struct req_str){"/wsx", 3}, "/wsx"));
	assert_false(req_equals((struct req_str){NULL, 0}, ""));
	assert_true(req_equals((struct req_str){"", 0}, ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_clients),
	    cmocka_unit_test(test_incomplete_at_every_split),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_bad_heads),
	    cmocka_unit_test(test_empty_line_flood),
	    cmocka_unit_test(test_nul_and_controls_anywhere),
	    cmocka_unit_test(test_duplicate_headers),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_request_arg),
	    cmocka_unit_test(test_decode_within_bounds),
	    cmocka_unit_test(test_decode_path),
	    cmocka_unit_test(test_has_token),
	    cmocka_unit_test(test_equals),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
