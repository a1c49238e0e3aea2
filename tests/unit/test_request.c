/* test_request.c: request heads as real clients send them, cut short
 * anywhere, pipelined, and the flags they set (request.c).  What is
 * refused is in test_request_refusals.c, query arguments and paths in
 * test_request_args.c. */
#include "unit.h"

#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        .method = REQ_POST,
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
        .method = REQ_POST,
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_clients),
	    cmocka_unit_test(test_incomplete_at_every_split),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_flags),
	};
	return cmocka_run_group_tests_name("request", tests, NULL, NULL);
}
