/* config.c: command line, environment and their validation. */
#include "config.h"

#include "topics.h"
#include "version.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libwebsockets.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef TICKERD_WEB_DIR
#define TICKERD_WEB_DIR "/usr/local/share/tickerd/web"
#endif

#define HISTORY_MAX    10000
#define LOG_LENGTH_MAX 1000000

static const char usage[] =
    "Usage: tickerd [OPTION]...\n"
    "Serve live news headlines from Redis to WebSocket and EventSource "
    "screens.\n"
    "\n"
    "Each option can also be set by the environment variable named "
    "after it.\n"
    "  -l, --listen HOST:PORT  address to serve HTTP and WebSocket on\n"
    "                          (TICKERD_LISTEN, default 127.0.0.1:8080)\n"
    "  -r, --redis URL         redis://[:password@]host:port[/db] or\n"
    "                          unix:///path/to/redis.sock (Redis 7 or "
    "later)\n"
    "                          (TICKERD_REDIS, default "
    "redis://127.0.0.1:6379)\n"
    "  -p, --prefix NAME       subscribe to NAME:* ; the channel's suffix "
    "is\n"
    "                          the item's topic; the change log is "
    "NAME:log\n"
    "                          (TICKERD_PREFIX, default ticker)\n"
    "  -w, --web DIR           front-end files served at /\n"
    "                          (TICKERD_WEB, default " TICKERD_WEB_DIR ")\n"
    "  -n, --history N         recent items kept per topic, 1-10000\n"
    "                          (TICKERD_HISTORY, default 50)\n"
    "  -N, --log-length N      entries kept in the change log, which is "
    "also\n"
    "                          how far back clients can resume, "
    "1-1000000\n"
    "                          (TICKERD_LOG_LENGTH, default 10000)\n"
    "  -L, --log-level LEVEL   error, warn, notice, info or debug\n"
    "                          (TICKERD_LOG_LEVEL, default notice)\n"
    "  -c, --config FILE       settings as \"name = value\" lines, names as "
    "the long\n"
    "                          options; SIGHUP reads it again "
    "(TICKERD_CONFIG)\n"
    "\n"
    "Who may connect, and limits (SIGHUP applies these, and reads --web "
    "again;\n"
    "each also TICKERD_<NAME>, e.g. TICKERD_MAX_CLIENTS):\n"
    "  --allow-origin ORIGIN   a page origin (https://news.example) whose "
    "pages may\n"
    "                          open /ws and /events; repeat or "
    "comma-separate; \"*\"\n"
    "                          allows any. The server's own origin always "
    "may.\n"
    "  --max-clients N         WebSocket + EventSource clients in all "
    "(20000)\n"
    "  --max-per-ip N          clients from one address, and connections "
    "from it\n"
    "                          whose request has not arrived yet (500)\n"
    "  --max-message BYTES     largest client message; larger: close 1009 "
    "(4096)\n"
    "  --max-rate N            client frames per second (messages, "
    "fragments,\n"
    "                          pongs); more: close 1008 (20)\n"
    "  --handshake-timeout S   seconds to send a whole HTTP request, and to "
    "take\n"
    "                          its answer (10)\n"
    "  --ping-interval S       ping an idle client after S s, hang up after "
    "2 x S (30)\n"
    "\n"
    "  -h, --help              show this help and exit\n"
    "  -V, --version           show the version and exit\n"
    "\n"
    "Publish:         redis-cli PUBLISH ticker:breaking \"Headline\"\n"
    "Durably, even with no tickerd running:\n"
    "  redis-cli FCALL tickerd_record 2 ticker:log ticker:seen breaking "
    "\"Headline\"\n"
    "HTTP: / (front-end), /healthz (JSON status), /metrics (Prometheus),\n"
    "  /ws?topics=a,b&since=SEQ (WebSocket), /events?topics=a,b "
    "(EventSource).\n"
    "Exit status: 0 on SIGINT/SIGTERM, 1 if serving fails, 2 for bad "
    "usage.\n";

const char *
cfg_usage(void)
{
	return usage;
}

static int
fail(struct cfg_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* Parse a decimal in [min, max] filling the whole string; 0 or -1. */
static int
parse_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
cfg_parse_listen(const char *s, struct cfg *c, struct cfg_error *err)
{
	const char *colon = strrchr(s, ':');
	char host[256];
	unsigned char addr[16];
	size_t hlen;
	long port;

	if (!colon || parse_number(colon + 1, 1, 65535, &port))
		return fail(err, "--listen: expected HOST:PORT, got \"%s\"", s);
	hlen = (size_t)(colon - s);
	if (hlen >= sizeof(host))
		return fail(err, "--listen: host too long");
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, host, addr) != 1)
			return fail(err,
			            "--listen: \"%s\" is not an IPv6 "
			            "address",
			            host);
	} else if (!strcmp(host, "localhost")) {
		strcpy(host, "127.0.0.1");
	} else if (!strcmp(host, "*") || !strcmp(host, "0.0.0.0")) {
		host[0] = '\0';
	} else if (hlen && inet_pton(AF_INET, host, addr) != 1) {
		return fail(err,
		            "--listen: \"%s\" is not an IPv4 address, "
		            "[IPv6] address, localhost or *",
		            host);
	}
	strcpy(c->listen_host, host);
	c->listen_port = (int)port;
	return 0;
}

/* Read "[:password@]host[:port][/db]" after "redis://". */
static int
parse_tcp_target(const char *rest, struct redis_target *t,
                 struct cfg_error *err)
{
	const char *at = strrchr(rest, '@'), *hp = rest, *slash, *colon;
	char hostport[sizeof(t->host)];
	long v;

	if (at) {
		const char *pw = rest;
		size_t len;

		if (*pw == ':')
			pw++;
		else if (memchr(rest, ':', (size_t)(at - rest)))
			pw = strchr(rest, ':') + 1; /* user:password */
		len = (size_t)(at - pw);
		if (len >= sizeof(t->password))
			return fail(err, "--redis: password too long");
		memcpy(t->password, pw, len);
		t->password[len] = '\0';
		hp = at + 1;
	}
	slash = strchr(hp, '/');
	if ((slash ? (size_t)(slash - hp) : strlen(hp)) >= sizeof(hostport))
		return fail(err, "--redis: host too long");
	snprintf(hostport, sizeof(hostport), "%.*s",
	         (int)(slash ? (size_t)(slash - hp) : strlen(hp)), hp);
	if (slash && slash[1]) {
		if (parse_number(slash + 1, 0, 1000000, &v))
			return fail(err,
			            "--redis: database \"%s\" is not a "
			            "number",
			            slash + 1);
		t->db = (int)v;
	}
	colon = strrchr(hostport, ':');
	if (hostport[0] == '[') { /* [v6]:port */
		char *close = strchr(hostport, ']');

		if (!close)
			return fail(err, "--redis: unclosed [ in host");
		*close = '\0';
		snprintf(t->host, sizeof(t->host), "%s", hostport + 1);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		snprintf(t->host, sizeof(t->host), "%.*s",
		         (int)(colon ? (size_t)(colon - hostport)
		                     : strlen(hostport)),
		         hostport);
	}
	if (!t->host[0])
		return fail(err, "--redis: no host in URL");
	t->port = 6379;
	if (colon) {
		if (parse_number(colon + 1, 1, 65535, &v))
			return fail(err, "--redis: bad port \"%s\"", colon + 1);
		t->port = (int)v;
	}
	return 0;
}

int
cfg_parse_redis_url(const char *url, struct redis_target *t,
                    struct cfg_error *err)
{
	memset(t, 0, sizeof(*t));
	if (!strncasecmp(url, "redis://", 8))
		return parse_tcp_target(url + 8, t, err);
	if (!strncasecmp(url, "unix://", 7)) {
		const char *path = url + 7;

		if (path[0] != '/')
			return fail(err, "--redis: unix:// needs an absolute "
			                 "path, as unix:///run/redis.sock");
		if (strlen(path) >= sizeof(t->path))
			return fail(err, "--redis: socket path too long");
		t->is_unix = 1;
		strcpy(t->path, path);
		return 0;
	}
	return fail(err,
	            "--redis: \"%s\" is not a redis://host:port[/db] or "
	            "unix:///path URL",
	            url);
}

/* Copy url into c->redis_url with any password replaced by "***". */
static void
remember_url(struct cfg *c, const char *url)
{
	const char *at = strrchr(url, '@');

	if (c->redis.password[0] && at)
		snprintf(c->redis_url, sizeof(c->redis_url), "redis://***@%s",
		         at + 1);
	else
		snprintf(c->redis_url, sizeof(c->redis_url), "%s", url);
}

static int
parse_log_level(const char *s, int *out)
{
	static const struct {
		const char *name;
		int mask;
	} levels[] = {
	    {"error", LLL_ERR},
	    {"warn", LLL_ERR | LLL_WARN},
	    {"notice", LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER},
	    {"info", LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER | LLL_INFO},
	    {"debug",
	     LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_USER | LLL_INFO | LLL_DEBUG},
	};

	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (!strcasecmp(s, levels[i].name)) {
			*out = levels[i].mask;
			return 0;
		}
	return -1;
}

/* The numeric limits: name, range, where in struct cfg. */
static const struct {
	const char *name;
	long min, max;
	size_t offset;
} limits[] = {
    {"max-clients", 1, 1000000, offsetof(struct cfg, max_clients)},
    {"max-per-ip", 1, 1000000, offsetof(struct cfg, max_per_ip)},
    {"max-message", 16, 1048576, offsetof(struct cfg, max_message)},
    {"max-rate", 1, 100000, offsetof(struct cfg, max_rate)},
    {"handshake-timeout", 1, 3600, offsetof(struct cfg, handshake_timeout)},
    {"ping-interval", 1, 3600, offsetof(struct cfg, ping_interval)},
};

/* 1 if s is scheme://host[:port] with nothing after, as browsers send. */
static int
origin_is_valid(const char *s, size_t len)
{
	const char *p = memchr(s, ':', len);

	if (!p || (size_t)(p - s) + 3 >= len || strncmp(p, "://", 3))
		return 0;
	for (const char *q = p + 3; q < s + len; q++)
		if (*q == '/' || *q == '?' || *q == '#' || *q <= ' ' ||
		    *q == 0x7f)
			return 0;
	return 1;
}

/* Bytes the listed origins take in frame-ancestors (each + a space). */
static size_t
origins_len(const struct cfg *c)
{
	size_t n = 0;

	for (int i = 0; i < c->n_origins; i++)
		n += strlen(c->origins[i]) + 1;
	return n;
}

/* Add "a,b,c" to the allowed origins; "*" allows any.  0 or -1. */
static int
add_origins(struct cfg *c, const char *list, struct cfg_error *err)
{
	while (*list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		while (len && *list == ' ') {
			list++;
			len--;
		}
		while (len && list[len - 1] == ' ')
			len--;
		if (len == 1 && *list == '*') {
			c->any_origin = 1;
		} else if (len) {
			if (len >= CFG_ORIGIN_LEN ||
			    !origin_is_valid(list, len))
				return fail(err,
				            "--allow-origin: \"%.*s\" is not "
				            "scheme://host[:port]",
				            (int)(len > 80 ? 80 : len), list);
			/*
			 * lws 4.1 leaves a static file about 2 KB for the
			 * headers we add, and the CSP names every origin.
			 */
			if (origins_len(c) + len + 1 > CFG_ORIGINS_BYTES)
				return fail(err,
				            "--allow-origin: the origins must "
				            "fit in %d bytes in all (the "
				            "Content-Security-Policy header "
				            "lists them); list fewer, or \"*\"",
				            CFG_ORIGINS_BYTES);
			if (c->n_origins == CFG_MAX_ORIGINS)
				return fail(err,
				            "--allow-origin: more than %d "
				            "origins",
				            CFG_MAX_ORIGINS);
			memcpy(c->origins[c->n_origins], list, len);
			c->origins[c->n_origins++][len] = '\0';
		}
		if (!end)
			break;
		list = end + 1;
	}
	return 0;
}

int
cfg_origin_allowed(const struct cfg *c, const char *origin)
{
	if (c->any_origin)
		return 1;
	for (int i = 0; i < c->n_origins; i++)
		if (!strcasecmp(c->origins[i], origin)) /* hosts: any case */
			return 1;
	return 0;
}

/* Apply one setting by its long option name; 0 or -1 with err. */
static int
apply(struct cfg *c, const char *name, const char *value, struct cfg_error *err)
{
	long v;

	if (!strcmp(name, "listen"))
		return cfg_parse_listen(value, c, err);
	if (!strcmp(name, "redis")) {
		if (cfg_parse_redis_url(value, &c->redis, err))
			return -1;
		remember_url(c, value);
		return 0;
	}
	if (!strcmp(name, "prefix")) {
		if (!topic_is_valid(value, strlen(value)))
			return fail(err,
			            "--prefix: \"%s\" must be 1-64 of A-Z a-z "
			            "0-9 _ . -",
			            value);
		strcpy(c->prefix, value);
		return 0;
	}
	if (!strcmp(name, "web")) {
		if (!*value || strlen(value) >= sizeof(c->web_dir))
			return fail(err, "--web: bad directory \"%s\"", value);
		strcpy(c->web_dir, value);
		return 0;
	}
	if (!strcmp(name, "history")) {
		if (parse_number(value, 1, HISTORY_MAX, &v))
			return fail(err,
			            "--history: \"%s\" is not a number from 1 "
			            "to %d",
			            value, HISTORY_MAX);
		c->history = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "log-length")) {
		if (parse_number(value, 1, LOG_LENGTH_MAX, &v))
			return fail(err,
			            "--log-length: \"%s\" is not a number from "
			            "1 to %d",
			            value, LOG_LENGTH_MAX);
		c->log_length = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "allow-origin"))
		return add_origins(c, value, err);
	if (!strcmp(name, "config")) {
		if (!*value || strlen(value) >= sizeof(c->config_file))
			return fail(err, "--config: bad file name");
		strcpy(c->config_file, value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		if (strcmp(name, limits[i].name))
			continue;
		if (parse_number(value, limits[i].min, limits[i].max, &v))
			return fail(err,
			            "--%s: \"%s\" is not a number from %ld "
			            "to %ld",
			            name, value, limits[i].min, limits[i].max);
		*(unsigned *)((char *)c + limits[i].offset) = (unsigned)v;
		return 0;
	}
	if (!strcmp(name, "log-level")) {
		if (parse_log_level(value, &c->log_level))
			return fail(err,
			            "--log-level: \"%s\" is not error, warn, "
			            "notice, info or debug",
			            value);
		return 0;
	}
	return fail(err, "unknown setting %s", name);
}

static const struct option options[] = {
    {"listen", required_argument, NULL, 'l'},
    {"redis", required_argument, NULL, 'r'},
    {"prefix", required_argument, NULL, 'p'},
    {"web", required_argument, NULL, 'w'},
    {"history", required_argument, NULL, 'n'},
    {"log-length", required_argument, NULL, 'N'},
    {"log-level", required_argument, NULL, 'L'},
    {"config", required_argument, NULL, 'c'},
    {"allow-origin", required_argument, NULL, 256},
    {"max-clients", required_argument, NULL, 257},
    {"max-per-ip", required_argument, NULL, 258},
    {"max-message", required_argument, NULL, 259},
    {"max-rate", required_argument, NULL, 260},
    {"handshake-timeout", required_argument, NULL, 261},
    {"ping-interval", required_argument, NULL, 262},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* 1 if name is a long option that takes a value. */
static int
is_setting(const char *name)
{
	for (const struct option *o = options; o->name; o++)
		if (o->has_arg == required_argument && !strcmp(o->name, name))
			return 1;
	return 0;
}

/* The environment variable for a long option: TICKERD_LOG_LEVEL etc. */
static const char *
env_for(const char *name, char *buf, size_t len)
{
	size_t i = 0;

	snprintf(buf, len, "TICKERD_%s", name);
	for (i = 8; buf[i]; i++)
		buf[i] = buf[i] == '-' ? '_' : (char)(buf[i] & ~0x20);
	return getenv(buf);
}

/* The --config file named on the command line, else by TICKERD_CONFIG. */
static const char *
find_config(int argc, char **argv)
{
	const char *file = getenv("TICKERD_CONFIG");

	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "--config") || !strcmp(argv[i], "-c")) &&
		    i + 1 < argc)
			file = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			file = argv[i] + 9;
	}
	return file;
}

/*
 * Read "name = value" lines (names as the long options; # comments) from
 * path, if any.  Read once at start and again on SIGHUP: small, blocking,
 * never on a client's path.  0, or -1 with err naming file and line.
 */
static int
read_config_file(struct cfg *c, const char *path, struct cfg_error *err)
{
	char line[1024], why[sizeof(err->text)];
	int n = 0, rc = 0;
	FILE *f;

	if (!path || !*path)
		return 0;
	f = fopen(path, "r");
	if (!f)
		return fail(err, "--config: cannot read %s: %s", path,
		            strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		char *name = line, *value, *end;

		n++;
		line[strcspn(line, "#\r\n")] = '\0';
		name += strspn(name, " \t");
		if (!*name)
			continue;
		value = name + strcspn(name, " \t=");
		end = value;
		value += strspn(value, " \t");
		if (*value == '=')
			value += 1 + strspn(value + 1, " \t");
		*end = '\0';
		for (end = value + strlen(value);
		     end > value && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		if (!strcmp(name, "config") || !strcmp(name, "help") ||
		    !strcmp(name, "version") || !is_setting(name)) {
			rc = fail(err, "%s:%d: unknown setting \"%s\"", path, n,
			          name);
		} else if (apply(c, name, value, err)) {
			snprintf(why, sizeof(why), "%s", err->text);
			rc = fail(err, "%s:%d: %s", path, n, why);
		}
	}
	fclose(f);
	return rc;
}

enum cfg_result
cfg_parse(struct cfg *c, int argc, char **argv, struct cfg_error *err)
{
	char var[40], why[sizeof(err->text)];
	const char *value;
	int opt;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	if (apply(c, "listen", "127.0.0.1:8080", err) ||
	    apply(c, "redis", "redis://127.0.0.1:6379", err) ||
	    apply(c, "prefix", "ticker", err) ||
	    apply(c, "web", TICKERD_WEB_DIR, err) ||
	    apply(c, "history", "50", err) ||
	    apply(c, "log-length", "10000", err) ||
	    apply(c, "log-level", "notice", err) ||
	    apply(c, "max-clients", "20000", err) ||
	    apply(c, "max-per-ip", "500", err) ||
	    apply(c, "max-message", "4096", err) ||
	    apply(c, "max-rate", "20", err) ||
	    apply(c, "handshake-timeout", "10", err) ||
	    apply(c, "ping-interval", "30", err))
		return CFG_ERROR;
	if (read_config_file(c, find_config(argc, argv), err))
		return CFG_ERROR;

	for (const struct option *o = options; o->name; o++) {
		if (o->has_arg != required_argument ||
		    !strcmp(o->name, "config"))
			continue;
		value = env_for(o->name, var, sizeof(var));
		if (value && apply(c, o->name, value, err)) {
			snprintf(why, sizeof(why), "%s", err->text);
			fail(err, "%s (from %s)", why, var);
			return CFG_ERROR;
		}
	}

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":l:r:p:w:n:N:L:c:hV", options,
	                          NULL)) != -1) {
		const char *name = NULL;

		switch (opt) {
		case 'h':
			fputs(usage, stdout);
			return CFG_EXIT_OK;
		case 'V':
			printf("%s\n", TICKERD_SERVER);
			return CFG_EXIT_OK;
		case ':':
			fail(err, "option %s needs a value", argv[optind - 1]);
			return CFG_ERROR;
		case '?':
			fail(err, "unknown option %s (see --help)",
			     argv[optind - 1]);
			return CFG_ERROR;
		default:
			for (const struct option *o = options; o->name; o++)
				if (o->val == opt)
					name = o->name;
			if (apply(c, name, optarg, err))
				return CFG_ERROR;
		}
	}
	if (optind < argc) {
		fail(err, "unexpected argument \"%s\" (see --help)",
		     argv[optind]);
		return CFG_ERROR;
	}
	return CFG_RUN;
}

int
cfg_reload_limits(struct cfg *c, int argc, char **argv, struct cfg_error *err)
{
	struct cfg fresh;

	if (cfg_parse(&fresh, argc, argv, err) != CFG_RUN)
		return -1;
	memcpy(c->origins, fresh.origins, sizeof(c->origins));
	c->n_origins = fresh.n_origins;
	c->any_origin = fresh.any_origin;
	c->max_clients = fresh.max_clients;
	c->max_per_ip = fresh.max_per_ip;
	c->max_message = fresh.max_message;
	c->max_rate = fresh.max_rate;
	c->handshake_timeout = fresh.handshake_timeout;
	c->ping_interval = fresh.ping_interval;
	return 0;
}
