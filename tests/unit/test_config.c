/* test_config.c: flags, environment, config file, defaults, reload. */
#include "unit.h"

#include "config.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Every TICKERD_* variable gone, whatever settings there are. */
static int
clear_env(void **state)
{
	char name[64];

	(void)state;
	for (size_t i = 0; environ[i];)
		if (!strncmp(environ[i], "TICKERD_", 8)) {
			snprintf(name, sizeof(name), "%.*s",
			         (int)strcspn(environ[i], "="), environ[i]);
			unsetenv(name);
		} else {
			i++;
		}
	return 0;
}

/* A --config file with text in it; its name is in path. */
static void
write_file(char *path, size_t len, const char *text)
{
	FILE *f;

	snprintf(path, len, "/tmp/tickerd-test-config.%d", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* argv for a NULL-terminated argument list after "tickerd"; its argc. */
static int
make_argv(char **argv, const char *const *args)
{
	int argc = 1;

	argv[0] = "tickerd";
	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return argc;
}

static enum cfg_result
parse(struct cfg *c, struct cfg_error *err, const char *const *args)
{
	char *argv[32];
	int argc = make_argv(argv, args);

	return cfg_parse(c, argc, argv, err);
}

/* As on SIGHUP: 0, or -1 with c unchanged. */
static int
reload(struct cfg *c, struct cfg_error *err, const char *const *args)
{
	char *argv[32];
	int argc = make_argv(argv, args);

	return cfg_reload(c, argc, argv, err);
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
	assert_false(c.redis.nodes[0].is_unix);
	assert_string_equal(c.redis.nodes[0].host, "127.0.0.1");
	assert_int_equal(c.redis.nodes[0].port, 6379);
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
	assert_string_equal(c.redis.nodes[0].host, "db.local");
	assert_int_equal(c.redis.nodes[0].port, 7000);
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
	assert_true(c.redis.nodes[0].is_unix);
	assert_string_equal(c.redis.nodes[0].path, "/run/redis/redis.sock");
	assert_false(c.log_level & LLL_NOTICE);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 8081);
}

/* Sentinel and cluster URLs: every node, default ports, the master's
 * name, the password kept out of the logged URL and back in --print-config's.
 */
static void
test_redis_ha_urls(void **state)
{
	static const char *const sentinel[] = {
	    "--redis", "sentinel://:pw@10.0.0.1,10.0.0.2:5000,[::1]/news/2",
	    "--sentinel-password", "spw", NULL};
	static const char *const cluster[] = {
	    "--redis", "cluster://c1:7000, c2:7001,,c3", NULL};
	struct cfg c;
	struct cfg_error err;
	char buf[1200];

	(void)state;
	assert_int_equal(parse(&c, &err, sentinel), CFG_RUN);
	assert_int_equal(c.redis.mode, REDIS_SENTINEL);
	assert_int_equal(c.redis.n_nodes, 3);
	assert_string_equal(c.redis.nodes[0].host, "10.0.0.1");
	assert_int_equal(c.redis.nodes[0].port, 26379);
	assert_int_equal(c.redis.nodes[1].port, 5000);
	assert_string_equal(c.redis.nodes[2].host, "::1");
	assert_string_equal(c.redis.master_name, "news");
	assert_int_equal(c.redis.db, 2);
	assert_string_equal(c.redis.password, "pw");
	assert_string_equal(c.sentinel_password, "spw");
	assert_string_equal(
	    c.redis_url, "sentinel://***@10.0.0.1,10.0.0.2:5000,[::1]/news/2");
	cfg_describe(&c, 0, buf, sizeof(buf));
	assert_null(strstr(buf, "spw"));
	assert_null(strstr(buf, "pw@"));

	assert_int_equal(parse(&c, &err, cluster), CFG_RUN);
	assert_int_equal(c.redis.mode, REDIS_CLUSTER);
	assert_int_equal(c.redis.n_nodes, 3);
	assert_string_equal(c.redis.nodes[1].host, "c2");
	assert_int_equal(c.redis.nodes[2].port, 6379);
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
	    {{"--redis", "sentinel://h:26379", NULL}, "master's name"},
	    {{"--redis", "sentinel:///mymaster", NULL}, "no host"},
	    {{"--redis", "sentinel://h:0/m", NULL}, "bad port"},
	    {{"--redis", "cluster://h:7000/1", NULL}, "no databases"},
	    {{"--redis", "cluster://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", NULL},
	     "at most 16"},
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

/* A config file's errors name the file and line. */
static void
test_file_errors(void **state)
{
	static const struct {
		const char *text, *needle;
	} cases[] = {
	    {"# fine\nbogus = 1\n", ":2: unknown setting \"bogus\""},
	    {"config = /etc/x\n", ":1: unknown setting \"config\""},
	    {"help = 1\n", ":1: unknown setting \"help\""},
	    {"max-message = lots\n", ":1: --max-message: \"lots\""},
	    {"prefix = a:b\n", ":1: --prefix"},
	};
	char path[64], long_line[3000];
	const char *args[] = {"--config", path, NULL};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, sizeof(path), cases[i].text);
		assert_int_equal(parse(&c, &err, args), CFG_ERROR);
		if (!strstr(err.text, path) ||
		    !strstr(err.text, cases[i].needle))
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.text,
			         cases[i].needle);
	}
	/* A line too long to read whole is an error, not two settings. */
	snprintf(long_line, sizeof(long_line), "prefix = %2500s\n", "x");
	write_file(path, sizeof(path), long_line);
	assert_int_equal(parse(&c, &err, args), CFG_ERROR);
	assert_non_null(strstr(err.text, "line too long"));
	unlink(path);
	args[1] = "/nonexistent/tickerd.conf";
	assert_int_equal(parse(&c, &err, args), CFG_ERROR);
	assert_non_null(strstr(err.text, "cannot read"));
}

/* Defaults, then the file, then the environment, then flags. */
static void
test_precedence(void **state)
{
	char path[64], joined[80];
	const char *args[] = {"--max-rate", "3", "-c", path, NULL};
	const char *short_joined[] = {joined, NULL};
	const char *abbreviated[] = {"--conf", path, NULL};
	struct cfg c;
	struct cfg_error err;

	(void)state;
	write_file(path, sizeof(path),
	           "  # comment\n\nmax-rate = 1\nmax-message=100\n"
	           "max-clients\t=\t7   # trailing comment\nhistory 5\n");
	setenv("TICKERD_MAX_RATE", "2", 1);
	setenv("TICKERD_MAX_MESSAGE", "200", 1);
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_string_equal(c.config_file, path);
	assert_int_equal(c.max_rate, 3);      /* flag */
	assert_int_equal(c.max_message, 200); /* environment */
	assert_int_equal(c.max_clients, 7);   /* file */
	assert_int_equal(c.history, 5);       /* file, "name value" */
	assert_int_equal(c.max_per_ip, 500);  /* default */

	/* TICKERD_CONFIG names the file when no flag does; a flag wins. */
	setenv("TICKERD_CONFIG", path, 1);
	args[2] = NULL;
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_int_equal(c.max_clients, 7);
	setenv("TICKERD_CONFIG", "/nonexistent/tickerd.conf", 1);
	args[2] = "--config";
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_int_equal(c.max_clients, 7);
	/* -cFILE and an abbreviated --conf are the same flag. */
	snprintf(joined, sizeof(joined), "-c%s", path);
	unsetenv("TICKERD_CONFIG");
	assert_int_equal(parse(&c, &err, short_joined), CFG_RUN);
	assert_int_equal(c.max_clients, 7);
	assert_int_equal(parse(&c, &err, abbreviated), CFG_RUN);
	assert_int_equal(c.max_clients, 7);
	unlink(path);
}

/* Origins: repeated, comma-separated, "*", at most 1,200 bytes in all. */
static void
test_origins(void **state)
{
	static const char *const args[] = {
	    "--allow-origin", " https://a.example , https://b.example:8443",
	    "--allow-origin", "HTTPS://C.example", NULL};
	static const char *const star[] = {"--allow-origin", "*", NULL};
	char big[1400];
	const char *too_many[] = {"--allow-origin", big, NULL};
	struct cfg c;
	struct cfg_error err;
	size_t n = 0;

	(void)state;
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_int_equal(c.n_origins, 3);
	assert_false(c.any_origin);
	assert_string_equal(c.origins[0], "https://a.example");
	assert_string_equal(c.origins[1], "https://b.example:8443");
	assert_true(cfg_origin_allowed(&c, "https://c.example"));
	assert_false(cfg_origin_allowed(&c, "https://d.example"));
	setenv("TICKERD_ALLOW_ORIGIN", "https://env.example", 1);
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	assert_int_equal(c.n_origins, 4); /* the variable's add up */
	assert_int_equal(parse(&c, &err, star), CFG_RUN);
	assert_true(c.any_origin);
	assert_true(cfg_origin_allowed(&c, "https://any.example"));
	unsetenv("TICKERD_ALLOW_ORIGIN");

	/* 20 origins of 60 bytes each + a space: 1,220 bytes > 1,200. */
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		                      "%shttps://%049d.ex", i ? "," : "", i);
	assert_int_equal(parse(&c, &err, too_many), CFG_ERROR);
	assert_non_null(strstr(err.text, "1200 bytes"));
	big[n - 61] = '\0'; /* 19 of them: 1,159 bytes */
	assert_int_equal(parse(&c, &err, too_many), CFG_RUN);
	assert_int_equal(c.n_origins, 19);
}

/* SIGHUP: exactly the reloadable settings change; a bad file changes none. */
static void
test_reload(void **state)
{
	char path[64], big[1400], text[1600];
	const char *args[] = {"--config", path, NULL};
	struct cfg c, before;
	struct cfg_error err;
	size_t n = 0;

	(void)state;
	write_file(path, sizeof(path), "allow-origin = https://a.example\n");
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	write_file(path, sizeof(path),
	           "listen = 127.0.0.1:9\nredis = redis://other:1\n"
	           "prefix = other\nweb = /other\nhistory = 9\n"
	           "log-length = 9\nlog-level = debug\n"
	           "allow-origin = https://b.example, *\nmax-clients = 9\n"
	           "max-per-ip = 9\nmax-message = 99\nmax-rate = 9\n"
	           "handshake-timeout = 9\nping-interval = 9\n");
	before = c;
	assert_int_equal(reload(&c, &err, args), 0);
	assert_string_equal(c.listen_host, before.listen_host);
	assert_int_equal(c.listen_port, before.listen_port);
	assert_string_equal(c.redis.nodes[0].host, "127.0.0.1");
	assert_string_equal(c.prefix, "ticker");
	assert_string_equal(c.web_dir, before.web_dir);
	assert_int_equal(c.history, 50);
	assert_int_equal(c.log_length, 10000);
	assert_int_equal(c.log_level, before.log_level);
	assert_int_equal(c.n_origins, 1);
	assert_string_equal(c.origins[0], "https://b.example");
	assert_true(c.any_origin);
	assert_int_equal(c.max_clients, 9);
	assert_int_equal(c.max_per_ip, 9);
	assert_int_equal(c.max_message, 99);
	assert_int_equal(c.max_rate, 9);
	assert_int_equal(c.handshake_timeout, 9);
	assert_int_equal(c.ping_interval, 9);

	/* Refused (too many origin bytes, a bad value): nothing changes. */
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
		                      "%shttps://%049d.ex", i ? "," : "", i);
	snprintf(text, sizeof(text), "allow-origin = %s\n", big);
	write_file(path, sizeof(path), text);
	before = c;
	assert_int_equal(reload(&c, &err, args), -1);
	assert_non_null(strstr(err.text, "1200 bytes"));
	assert_memory_equal(&c, &before, sizeof(c));
	write_file(path, sizeof(path), "max-message = lots\n");
	assert_int_equal(reload(&c, &err, args), -1);
	assert_memory_equal(&c, &before, sizeof(c));
	unlink(path);
}

/* The log lines: every setting named, no password. */
static void
test_describe(void **state)
{
	static const char *const args[] = {
	    "--redis", "redis://:s3cret@db.local:7000", "--allow-origin",
	    "https://a.example", NULL};
	static const char *const fixed[] = {
	    "listen=",  "redis=",      "prefix=",          "web=",
	    "history=", "log-length=", "log-level=notice", "config=none"};
	static const char *const reloadable[] = {
	    "allow-origin=https://a.example",
	    "max-clients=20000",
	    "max-per-ip=500",
	    "max-message=4096",
	    "max-rate=20",
	    "handshake-timeout=10",
	    "ping-interval=30"};
	char line[512];
	struct cfg c;
	struct cfg_error err;

	(void)state;
	assert_int_equal(parse(&c, &err, args), CFG_RUN);
	cfg_describe(&c, 0, line, sizeof(line));
	assert_null(strstr(line, "s3cret"));
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!strstr(line, fixed[i]))
			fail_msg("\"%s\" lacks \"%s\"", line, fixed[i]);
	assert_null(strstr(line, "max-"));
	cfg_describe(&c, 1, line, sizeof(line));
	for (size_t i = 0; i < sizeof(reloadable) / sizeof(reloadable[0]); i++)
		if (!strstr(line, reloadable[i]))
			fail_msg("\"%s\" lacks \"%s\"", line, reloadable[i]);
	assert_null(strstr(line, "listen"));
}

/* A switch: off by default; a bare flag, yes/no words, the environment and
 * the file set it; anything else is refused. */
static void
test_switch(void **state)
{
	static const struct {
		const char *args[3];
		const char *env;
		int want; /* -1: refused */
	} cases[] = {
	    {{NULL}, NULL, 0},
	    {{"--reuse-port", NULL}, NULL, 1},
	    {{"--reuse-port=no", NULL}, NULL, 0},
	    {{"--reuse-port=ON", NULL}, NULL, 1},
	    {{NULL}, "yes", 1},
	    {{"--reuse-port=false", NULL}, "1", 0},
	    {{"--reuse-port=maybe", NULL}, NULL, -1},
	    {{NULL}, "2", -1},
	};
	char path[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c;
		struct cfg_error err;
		enum cfg_result r;

		if (cases[i].env)
			setenv("TICKERD_REUSE_PORT", cases[i].env, 1);
		else
			unsetenv("TICKERD_REUSE_PORT");
		r = parse(&c, &err, cases[i].args);
		if (cases[i].want < 0) {
			CHECK_INT("refused", r, CFG_ERROR);
			assert_non_null(strstr(err.text, "is not yes or no"));
		} else {
			CHECK_INT("parsed", r, CFG_RUN);
			CHECK_INT("reuse_port", c.reuse_port, cases[i].want);
		}
	}
	unsetenv("TICKERD_REUSE_PORT");
	write_file(path, sizeof(path), "reuse-port = yes\n");
	{
		const char *const args[] = {"--config", path, NULL};
		struct cfg c;
		struct cfg_error err;

		assert_int_equal(parse(&c, &err, args), CFG_RUN);
		assert_int_equal(c.reuse_port, 1);
	}
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_defaults, clear_env),
	    cmocka_unit_test_setup(test_flags_beat_environment, clear_env),
	    cmocka_unit_test_setup(test_environment_applies, clear_env),
	    cmocka_unit_test_setup(test_errors, clear_env),
	    cmocka_unit_test_setup(test_redis_ha_urls, clear_env),
	    cmocka_unit_test_setup(test_file_errors, clear_env),
	    cmocka_unit_test_setup(test_precedence, clear_env),
	    cmocka_unit_test_setup(test_origins, clear_env),
	    cmocka_unit_test_setup(test_reload, clear_env),
	    cmocka_unit_test_setup(test_describe, clear_env),
	    cmocka_unit_test_setup(test_switch, clear_env),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
