/* test_request_refusals.c: request heads request.c refuses: too large,
 * other versions, malformed, controls, repeated headers, bad
 * Content-Length (and the well-formed ones beside them). */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_bad_heads),
	    cmocka_unit_test(test_empty_line_flood),
	    cmocka_unit_test(test_nul_and_controls_anywhere),
	    cmocka_unit_test(test_duplicate_headers),
	    cmocka_unit_test(test_content_length),
	};
	return cmocka_run_group_tests_name("request_refusals", tests, NULL,
	                                   NULL);
}
