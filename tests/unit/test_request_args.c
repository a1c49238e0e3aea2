/* test_request_args.c: what is read from a parsed request (request.c):
 * query arguments, the decoded path, header tokens, whole strings. */
#include "unit.h"

#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	    cmocka_unit_test(test_request_arg),
	    cmocka_unit_test(test_decode_within_bounds),
	    cmocka_unit_test(test_decode_path),
	    cmocka_unit_test(test_has_token),
	    cmocka_unit_test(test_equals),
	};
	return cmocka_run_group_tests_name("request_args", tests, NULL, NULL);
}
