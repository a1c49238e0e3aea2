/* test_forwarded.c: --trusted-proxy ranges, and the client a request names
 * through them (Forwarded, X-Forwarded-For/-Proto/-Host). */
#include "unit.h"

#include "config.h"
#include "config_kinds.h"
#include "forwarded.h"
#include "request.h"

#include <stdio.h>

/* A configuration trusting list (as --trusted-proxy reads it). */
static void
trust(struct cfg *c, const char *list)
{
	static const struct cfg_setting s = {.name = "trusted-proxy"};
	struct cfg_error err;

	memset(c, 0, sizeof(*c));
	if (cfg_kind_cidrs.parse(c, &s, list, &err))
		fail_msg("%s: %s", list, err.text);
}

static void
test_ranges(void **state)
{
	static const struct {
		const char *ip;
		int trusted;
	} cases[] = {
	    {"10.1.2.3", 1},
	    {"10.255.255.255", 1},
	    {"11.0.0.0", 0},
	    {"127.0.0.1", 1},
	    {"127.0.0.2", 0},
	    {"192.168.1.129", 1},
	    {"192.168.1.127", 0},
	    {"fd00::1", 1},
	    {"fe00::1", 0},
	    {"::ffff:10.9.9.9", 1},
	    {"::1", 1},
	    {"::2", 0},
	    {"not an address", 0},
	    {"", 0},
	};
	struct cfg c;
	struct cfg_error err;
	static const struct cfg_setting s = {.name = "trusted-proxy"};

	(void)state;
	trust(&c, "10.0.0.0/8, 127.0.0.1,192.168.1.200/25 ,fd00::/8,::1");
	CHECK_INT("ranges", c.n_proxies, 5);
	for (size_t i = 0; i < N_OF(cases); i++)
		CHECK_INT(cases[i].ip, fwd_trusted(&c, cases[i].ip),
		          cases[i].trusted);
	trust(&c, "");
	CHECK_INT("none", fwd_trusted(&c, "10.1.2.3"), 0);
	/* Refused: not an address, a prefix too long, a host name. */
	assert_int_equal(cfg_kind_cidrs.parse(&c, &s, "10.0.0.0/33", &err), -1);
	assert_int_equal(cfg_kind_cidrs.parse(&c, &s, "fd00::/129", &err), -1);
	assert_int_equal(cfg_kind_cidrs.parse(&c, &s, "proxy.lan", &err), -1);
	assert_int_equal(cfg_kind_cidrs.parse(&c, &s, "10.0.0.0/", &err), -1);
	assert_int_equal(cfg_kind_cidrs.parse(&c, &s, "10.0.0/8", &err), -1);
}

/* The client of head (a whole request head) from peer under c. */
static void
resolve(struct fwd_client *w, struct request *r, const char *head,
        const char *peer, const struct cfg *c)
{
	if (request_parse(r, head, strlen(head)) != REQ_OK)
		fail_msg("not a request: %s", head);
	fwd_resolve(w, r, peer, c);
}

/* 1 if s is exactly text. */
static int
is(struct req_str s, const char *text)
{
	return s.p && s.len == strlen(text) && !memcmp(s.p, text, s.len);
}

static void
test_x_forwarded(void **state)
{
	struct fwd_client w;
	struct request r;
	struct cfg c;

	(void)state;
	trust(&c, "127.0.0.1, 10.0.0.0/8");
	/* nginx: $proxy_add_x_forwarded_for, Host without its port. */
	resolve(&w, &r,
	        "GET /ws HTTP/1.1\r\nHost: news.example\r\n"
	        "X-Forwarded-For: 1.2.3.4, 198.51.100.9\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "198.51.100.9");
	assert_true(is(w.host, "news.example"));
	CHECK_INT("nginx", w.any_port, 1);
	CHECK_INT("nginx", w.via_proxy, 1);
	/* Two trusted hops, each its own line (HAProxy's forwardfor). */
	resolve(&w, &r,
	        "GET /ws HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n"
	        "x-forwarded-for: 198.51.100.9\r\n"
	        "X-Forwarded-For: 10.0.0.5\r\n"
	        "X-Forwarded-Proto: https\r\nX-Forwarded-Host: a:8443\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "198.51.100.9");
	assert_true(is(w.host, "a:8443"));
	assert_true(is(w.proto, "https"));
	CHECK_INT("hops", w.any_port, 0);
	/* From a peer that is not trusted: ignored. */
	resolve(
	    &w, &r,
	    "GET /ws HTTP/1.1\r\nHost: a:8080\r\nX-Forwarded-For: 1.2.3.4\r\n"
	    "X-Forwarded-Host: b\r\n\r\n",
	    "127.0.0.2", &c);
	assert_string_equal(w.ip, "127.0.0.2");
	assert_true(is(w.host, "a:8080"));
	CHECK_INT("untrusted", w.via_proxy, 0);
	CHECK_INT("untrusted", w.any_port, 0);
	/* Garbage stops the walk at the last address vouched for. */
	resolve(&w, &r,
	        "GET / HTTP/1.1\r\nHost: a\r\n"
	        "X-Forwarded-For: 1.2.3.4, bogus, 10.0.0.7\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "10.0.0.7");
	/* Every hop trusted: the left-most.  IPv6, canonical. */
	resolve(&w, &r,
	        "GET / HTTP/1.1\r\nHost: a\r\n"
	        "X-Forwarded-For: 2001:DB8:0::1, 10.0.0.7\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "2001:db8::1");
	/* A scheme other than http or https is none. */
	resolve(
	    &w, &r,
	    "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: gopher\r\n\r\n",
	    "127.0.0.1", &c);
	assert_null(w.proto.p);
	assert_string_equal(w.ip, "127.0.0.1");
}

static void
test_forwarded(void **state)
{
	struct fwd_client w;
	struct request r;
	struct cfg c;

	(void)state;
	trust(&c, "127.0.0.1, 10.0.0.0/8");
	/* RFC 7239: quoted IPv6 with a port, host with a port; it wins over
	 * X-Forwarded-For. */
	resolve(&w, &r,
	        "GET /ws HTTP/1.1\r\nHost: backend\r\n"
	        "X-Forwarded-For: 9.9.9.9\r\n"
	        "Forwarded: for=1.2.3.4, for=\"[2001:db8:cafe::17]:4711\";"
	        "proto=https;host=\"news.example:8443\"\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "2001:db8:cafe::17");
	assert_true(is(w.host, "news.example:8443"));
	assert_true(is(w.proto, "https"));
	CHECK_INT("rfc", w.any_port, 0);
	/* A trusted hop, then the client; each line a list. */
	resolve(&w, &r,
	        "GET / HTTP/1.1\r\nHost: backend\r\n"
	        "Forwarded: for=198.51.100.9;host=a.example;proto=http\r\n"
	        "Forwarded: For=\"10.0.0.3:1234\";host=inner\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "198.51.100.9");
	assert_true(is(w.host, "a.example"));
	assert_true(is(w.proto, "http"));
	CHECK_INT("hop", w.any_port, 1);
	/* Obfuscated or unknown: judged by the proxy that said so. */
	resolve(&w, &r,
	        "GET / HTTP/1.1\r\nHost: b\r\nForwarded: for=unknown\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "127.0.0.1");
	resolve(&w, &r,
	        "GET / HTTP/1.1\r\nHost: b\r\nForwarded: for=_hidden, "
	        "for=10.0.0.3\r\n\r\n",
	        "127.0.0.1", &c);
	assert_string_equal(w.ip, "10.0.0.3");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_x_forwarded),
	    cmocka_unit_test(test_forwarded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
