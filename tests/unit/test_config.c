/* test_config.c: flags, environment, defaults and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "config.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

static const char *const vars[] = {
    "TICKERD_LISTEN", "TICKERD_REDIS",   "TICKERD_PREFIX",
    "TICKERD_WEB",    "TICKERD_HISTORY", "TICKERD_LOG_LEVEL",
};

static int
clear_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

/* Parse a NULL-terminated argument list after "tickerd". */
static enum cfg_result
parse(struct cfg *c, struct cfg_error *err, const char *const *args)
{
	char *argv[32] = {"tickerd"};
	int argc = 1;

	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return cfg_parse(c, argc, argv, err);
}

static void
test_defaults(void **state)
{
	static const char *const none[] = {NULL};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	assert_int_equal(parse(&c, &err, none), CFG_RUN);
	assert_string_equal(c.listen_host, "127.0.0.1");
	assert_int_equal(c.listen_port, 8080);
	assert_false(c.redis.is_unix);
	assert_string_equal(c.redis.host, "127.0.0.1");
	assert_int_equal(c.redis.port, 6379);
	assert_int_equal(c.redis.db, 0);
	assert_string_equal(c.prefix, "ticker");
	assert_int_equal(c.history, 50);
	assert_true(c.log_level & LLL_NOTICE);
	assert_false(c.log_level & LLL_INFO);
}

static void
test_flags_beat_environment(void **state)
{
	static const char *const args[] = {
	    "--listen",    "0.0.0.0:9000",
	    "-r",          "redis://:s3cret@db.local:7000/3",
	    "--prefix",    "news",
	    "--history",   "7",
	    "--log-level", "debug",
	    "--web",       "/srv/web",
	    NULL};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	setenv("TICKERD_LISTEN", "127.0.0.1:1111", 1);
	setenv("TICKERD_PREFIX", "envprefix", 1);
	setenv("TICKERD_HISTORY", "9", 1);
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_string_equal(c.listen_host, "");
	assert_int_equal(c.listen_port, 9000);
	assert_string_equal(c.redis.host, "db.local");
	assert_int_equal(c.redis.port, 7000);
	assert_int_equal(c.redis.db, 3);
	assert_string_equal(c.redis.password, "s3cret");
	assert_null(strstr(c.redis_url, "s3cret"));
	assert_string_equal(c.prefix, "news");
	assert_int_equal(c.history, 7);
	assert_true(c.log_level & LLL_DEBUG);
	assert_string_equal(c.web_dir, "/srv/web");
}

static void
test_environment_applies(void **state)
{
	static const char *const none[] = {NULL};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	setenv("TICKERD_REDIS", "unix:///run/redis/redis.sock", 1);
	setenv("TICKERD_LOG_LEVEL", "warn", 1);
	setenv("TICKERD_LISTEN", "[::1]:8081", 1);
	assert_int_equal(parse(&c, &err, none), CFG_RUN);
	assert_true(c.redis.is_unix);
	assert_string_equal(c.redis.path, "/run/redis/redis.sock");
	assert_false(c.log_level & LLL_NOTICE);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 8081);
}

/* Each bad input fails with a message naming what was wrong. */
static void
test_errors(void **state)
{
	static const struct {
		const char *args[4];
		const char *needle;
	} cases[] = {
	    {{"--bogus", NULL}, "unknown option --bogus"},
	    {{"--redis", "ftp://x", NULL}, "--redis"},
	    {{"--redis", "redis://", NULL}, "no host"},
	    {{"--redis", "redis://h:99999", NULL}, "bad port"},
	    {{"--redis", "redis://h:1/x", NULL}, "database"},
	    {{"--redis", "unix://relative.sock", NULL}, "absolute"},
	    {{"--listen", "8080", NULL}, "HOST:PORT"},
	    {{"--listen", "nowhere.example:80", NULL}, "IPv4"},
	    {{"--listen", "127.0.0.1:0", NULL}, "HOST:PORT"},
	    {{"--history", "0", NULL}, "--history"},
	    {{"--history", "lots", NULL}, "--history"},
	    {{"--prefix", "a:b", NULL}, "--prefix"},
	    {{"--log-level", "loud", NULL}, "--log-level"},
	    {{"--listen", NULL}, "needs a value"},
	    {{"stray", NULL}, "unexpected argument"},
	};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(&c, &err, cases[i].args), CFG_ERROR);
		if (!strstr(err.text, cases[i].needle))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.text,
			         cases[i].needle);
	}
	setenv("TICKERD_HISTORY", "-1", 1);
	static const char *const none[] = {NULL};
	assert_int_equal(parse(&c, &err, none), CFG_ERROR);
	assert_non_null(strstr(err.text, "TICKERD_HISTORY"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, clear_env),
	    cmocka_unit_test_setup(test_flags_beat_environment, clear_env),
	    cmocka_unit_test_setup(test_environment_applies, clear_env),
	    cmocka_unit_test_setup(test_errors, clear_env),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
