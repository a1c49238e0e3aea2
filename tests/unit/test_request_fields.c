/* test_request_fields.c: the headers a file's answer depends on: kept by
 * the parser (request.c), read by request_fields.c: If-None-Match lists,
 * Accept-Encoding weights, HTTP dates. */
#include "unit.h"

#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s as a req_str over an exact-size heap copy (ASan sees a read past it). */
static struct req_str
field(const char *s)
{
	size_t len = strlen(s);

	return (struct req_str){exact(s, len), len};
}

/* Fail unless s is exactly want. */
static void
check_field(const char *what, struct req_str s, const char *want)
{
	if (!s.p || s.len != strlen(want) || memcmp(s.p, want, s.len))
		fail_msg("%s is \"%.*s\", want \"%s\"", what, (int)s.len,
		         s.p ? s.p : "(none)", want);
}

/* A revalidation as Chromium sends it: the three headers are kept. */
static void
test_kept(void **state)
{
	static const char head[] =
	    "GET /ticker.js HTTP/1.1\r\n"
	    "Host: ticker.example.org\r\n"
	    "Connection: keep-alive\r\n"
	    "sec-ch-ua-platform: \"Linux\"\r\n"
	    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
	    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
	    "Accept: */*\r\n"
	    "Origin: https://news.example\r\n"
	    "Sec-Fetch-Site: cross-site\r\n"
	    "Sec-Fetch-Mode: cors\r\n"
	    "Sec-Fetch-Dest: script\r\n"
	    "Referer: https://news.example/\r\n"
	    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
	    "Accept-Language: fr-FR,fr;q=0.9\r\n"
	    "If-None-Match:   \"0123456789abcdef-gz\"  \r\n"
	    "If-Modified-Since: Sun, 29 Nov 2026 07:59:00 GMT\r\n"
	    "\r\n";
	struct request r;
	char *p = exact(S(head));

	(void)state;
	assert_int_equal(request_parse(&r, p, sizeof(head) - 1), REQ_OK);
	check_field("If-None-Match", r.if_none_match,
	            "\"0123456789abcdef-gz\"");
	check_field("If-Modified-Since", r.if_modified_since,
	            "Sun, 29 Nov 2026 07:59:00 GMT");
	check_field("Accept-Encoding", r.accept_encoding,
	            "gzip, deflate, br, zstd");
	assert_false(r.if_none_match_twice || r.if_modified_since_twice ||
	             r.accept_encoding_twice);
	assert_true(r.keep_alive);
	free(p);
}

/* Sent twice: the first is kept, flagged, and the request not refused. */
static void
test_twice(void **state)
{
	static const char *const heads[] = {
	    "GET / HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"a\"\r\n"
	    "If-None-Match: \"b\"\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nif-modified-since: x\r\n"
	    "IF-MODIFIED-SINCE: y\r\n\r\n",
	    "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: gzip\r\n"
	    "Accept-Encoding: br\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < N_OF(heads); i++) {
		size_t len = strlen(heads[i]);
		char *p = exact(heads[i], len);
		struct request r;

		assert_int_equal(request_parse(&r, p, len), REQ_OK);
		CHECK_INT(heads[i], r.if_none_match_twice, i == 0);
		CHECK_INT(heads[i], r.if_modified_since_twice, i == 1);
		CHECK_INT(heads[i], r.accept_encoding_twice, i == 2);
		if (i == 0)
			check_field(heads[i], r.if_none_match, "\"a\"");
		if (i == 1)
			check_field(heads[i], r.if_modified_since, "x");
		if (i == 2)
			check_field(heads[i], r.accept_encoding, "gzip");
		free(p);
	}
}

/* If-None-Match: "*", lists, weak comparison, and what is no list. */
static void
test_etag_listed(void **state)
{
	static const struct {
		const char *value, *etag;
		int want;
	} cases[] = {
	    {"\"abc\"", "\"abc\"", 1},
	    {"W/\"abc\"", "\"abc\"", 1},
	    {"\"abc\"", "\"abc-gz\"", 0},
	    {"\"abc-gz\"", "\"abc\"", 0},
	    {"\"ABC\"", "\"abc\"", 0}, /* opaque: case counts */
	    {"\"x\", \"abc\"", "\"abc\"", 1},
	    {"\"x\",\"abc\",\"y\"", "\"abc\"", 1},
	    {"\"x\" , W/\"abc\"", "\"abc\"", 1},
	    {"\"abc\", \"abc-gz\"", "\"abc-gz\"", 1},
	    {", ,\"abc\",,", "\"abc\"", 1}, /* empty elements are allowed */
	    {"*", "\"abc\"", 1},
	    {" * ", "\"abc\"", 1},
	    {"\"\"", "\"\"", 1},
	    {"\"\"", "\"abc\"", 0},
	    {"\"x\"", "\"abc\"", 0},
	    {"", "\"abc\"", 0},
	    {"abc", "abc", 0},               /* not quoted */
	    {"\"abc", "\"abc\"", 0},         /* unterminated */
	    {"\"a b\"", "\"a b\"", 0},       /* no space in an entity-tag */
	    {"\"abc\" \"x\"", "\"abc\"", 0}, /* no comma */
	    {"\"abc\"x", "\"abc\"", 0},
	    {"w/\"abc\"", "\"abc\"", 0}, /* W/ is case-sensitive */
	    {"W/ \"abc\"", "\"abc\"", 0},
	    {"*, \"abc\"", "\"abc\"", 0}, /* "*" stands alone */
	    {"\"abc\", *", "\"abc\"", 0},
	    {"\"x\", junk, \"abc\"", "\"abc\"", 0},
	    {"\"\xc3\xa9\"", "\"\xc3\xa9\"", 1}, /* obs-text */
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct req_str s = field(cases[i].value);

		CHECK_INT(cases[i].value, req_etag_listed(s, cases[i].etag),
		          cases[i].want);
		free((char *)s.p);
	}
	assert_false(req_etag_listed((struct req_str){NULL, 0}, "\"abc\""));
	/* Only the first len bytes count. */
	assert_false(
	    req_etag_listed((struct req_str){"\"abc\"", 4}, "\"abc\""));
	assert_true(req_etag_listed((struct req_str){"*x", 1}, "\"abc\""));
}

/* Accept-Encoding: q-values, "*", x-gzip, malformed weights. */
static void
test_coding_q(void **state)
{
	static const struct {
		const char *value, *coding;
		int want;
	} cases[] = {
	    {"gzip", "gzip", 1000},
	    {"gzip, deflate, br", "gzip", 1000},
	    {"deflate, br", "gzip", -1},
	    {"GZIP", "gzip", 1000},
	    {"x-gzip", "gzip", 1000},
	    {"x-gzip", "br", -1},
	    {"gzip;q=0", "gzip", 0},
	    {"gzip; q=0", "gzip", 0},
	    {"gzip ; Q=0", "gzip", 0},
	    {"gzip;q=0.", "gzip", 0},
	    {"gzip;q=0.000", "gzip", 0},
	    {"gzip;q=0.001", "gzip", 1},
	    {"gzip;q=0.5", "gzip", 500},
	    {"gzip;q=0.25", "gzip", 250},
	    {"gzip;q=1", "gzip", 1000},
	    {"gzip;q=1.0", "gzip", 1000},
	    {"gzip;q=1.000", "gzip", 1000},
	    {"br;q=1.0, gzip;q=0.8, *;q=0.1", "gzip", 800},
	    {"br;q=1.0, gzip;q=0.8, *;q=0.1", "deflate", 100},
	    {"*", "gzip", 1000},
	    {"*;q=0", "gzip", 0},
	    {"*;q=0, gzip", "gzip", 1000}, /* its own entry wins */
	    {"gzip;q=0, *", "gzip", 0},
	    {"identity", "gzip", -1},
	    {"identity;q=1, *;q=0", "gzip", 0},
	    {"gzip;q=0.8, gzip;q=0", "gzip", 800}, /* the first counts */
	    {"gzipx", "gzip", -1},
	    {"xgzip", "gzip", -1},
	    {"gzip;level=1", "gzip", 1000}, /* other parameters */
	    {"gzip;level=1;q=0", "gzip", 0},
	    {"  gzip  ", "gzip", 1000},
	    {",, gzip ,", "gzip", 1000},
	    {"", "gzip", -1},
	    /* Malformed weights weigh nothing. */
	    {"gzip;q=2", "gzip", 0},
	    {"gzip;q=1.001", "gzip", 0},
	    {"gzip;q=0.0001", "gzip", 0},
	    {"gzip;q=.5", "gzip", 0},
	    {"gzip;q=", "gzip", 0},
	    {"gzip;q=-1", "gzip", 0},
	    {"gzip;q=0,5", "gzip", 0},
	    {"gzip;q=0.5x", "gzip", 0},
	    {"gzip;q=abc", "gzip", 0},
	    {"gzip junk", "gzip", 0},
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct req_str s = field(cases[i].value);
		char what[128];

		snprintf(what, sizeof(what), "\"%s\" for %s", cases[i].value,
		         cases[i].coding);
		CHECK_INT(what, req_coding_q(s, cases[i].coding),
		          cases[i].want);
		free((char *)s.p);
	}
	assert_int_equal(req_coding_q((struct req_str){NULL, 0}, "gzip"), -1);
	/* Only the first len bytes count. */
	assert_int_equal(req_coding_q((struct req_str){"gzip;q=0", 4}, "gzip"),
	                 1000);
}

/* HTTP dates: the three forms of RFC 9110 5.6.7, and what is none. */
static void
test_http_date(void **state)
{
	static const struct {
		const char *value;
		long long want; /* -1: refused */
	} cases[] = {
	    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
	    {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
	    {"Sun Nov  6 08:49:37 1994", 784111777},
	    {"Sun Nov 06 08:49:37 1994", 784111777},
	    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	    {"Sun, 29 Nov 2026 07:59:00 GMT", 1795939140},
	    {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
	    {"Tuesday, 31-Dec-69 00:00:00 GMT", 3155673600LL},
	    {"Mon, 29 Feb 2016 12:00:00 GMT", 1456747200},
	    /* The day name is not checked against the date. */
	    {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},
	    {"Sun, 06 Nov 1994 08:49:37 UTC", -1},
	    {"Sun, 06 Nov 1994 08:49:37 gmt", -1},
	    {"sun, 06 Nov 1994 08:49:37 GMT", -1},
	    {"Sun, 06 nov 1994 08:49:37 GMT", -1},
	    {"Sun, 6 Nov 1994 08:49:37 GMT", -1},
	    {"Sun, 06 Nov 94 08:49:37 GMT", -1},
	    {"Sun, 06 Nov 1994 8:49:37 GMT", -1},
	    {"Sun, 06 Nov 1994 24:00:00 GMT", -1},
	    {"Sun, 06 Nov 1994 08:60:00 GMT", -1},
	    {"Sun, 31 Nov 1994 08:49:37 GMT", -1},
	    {"Sun, 29 Feb 2015 08:49:37 GMT", -1},
	    {"Sun, 00 Nov 1994 08:49:37 GMT", -1},
	    {"Sun, 06 Nov 1994 08:49:37 GMT ", -1},
	    {" Sun, 06 Nov 1994 08:49:37 GMT", -1},
	    {"Sun, 06 Nov 1994 08:49:37 GMT; length=3", -1},
	    {"Sun, 06 Nov 1994 08:49:37 +0000", -1},
	    {"Sun, 06-Nov-94 08:49:37 GMT", -1},
	    {"Sundae, 06-Nov-94 08:49:37 GMT", -1},
	    {"Sunday, 06 Nov 1994 08:49:37 GMT", -1},
	    {"Sun Nov  6 08:49:37 94", -1},
	    {"Sun Nov 6  08:49:37 1994", -1},
	    {"1994-11-06T08:49:37Z", -1},
	    {"784111777", -1},
	    {"", -1},
	    {"x", -1},
	};

	(void)state;
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct req_str s = field(cases[i].value);
		time_t t = 42;
		int res = req_http_date(s, &t);

		CHECK_INT(cases[i].value, res, cases[i].want < 0 ? -1 : 0);
		if (cases[i].want >= 0 && (long long)t != cases[i].want)
			fail_msg("%s: %lld, want %lld", cases[i].value,
			         (long long)t, cases[i].want);
		if (res)
			CHECK_INT(cases[i].value, t, 42); /* left alone */
		free((char *)s.p);
	}
	{
		time_t t;

		assert_int_equal(req_http_date((struct req_str){NULL, 0}, &t),
		                 -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kept),        cmocka_unit_test(test_twice),
	    cmocka_unit_test(test_etag_listed), cmocka_unit_test(test_coding_q),
	    cmocka_unit_test(test_http_date),
	};
	return cmocka_run_group_tests_name("request_fields", tests, NULL, NULL);
}
