/* config_redis.c: the Redis URL setting (redis://, unix://, sentinel://,
 * cluster://) and the sentinels' password. */
#include "config_kinds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_PORT          6379
#define DEFAULT_SENTINEL_PORT 26379

/*
 * Read "host[:port]" or "[v6][:port]" (len bytes at p) into a; a port left
 * out is default_port.  0, or -1 with err.
 */
static int
parse_node(const char *p, size_t len, int default_port, struct redis_addr *a,
           struct cfg_error *err)
{
	char hostport[sizeof(a->host)];
	char *colon;
	long v;

	if (len >= sizeof(hostport))
		return cfg_fail(err, "--redis: host too long");
	memcpy(hostport, p, len);
	hostport[len] = '\0';
	colon = strrchr(hostport, ':');
	if (hostport[0] == '[') { /* [v6]:port */
		char *close = strchr(hostport, ']');

		if (!close)
			return cfg_fail(err, "--redis: unclosed [ in host");
		*close = '\0';
		snprintf(a->host, sizeof(a->host), "%s", hostport + 1);
		colon = close[1] == ':' ? close + 1 : NULL;
	} else {
		snprintf(a->host, sizeof(a->host), "%.*s",
		         (int)(colon ? (size_t)(colon - hostport)
		                     : strlen(hostport)),
		         hostport);
	}
	if (!a->host[0])
		return cfg_fail(err, "--redis: no host in \"%s\"", hostport);
	a->port = default_port;
	if (colon) {
		if (cfg_parse_number(colon + 1, 1, 65535, &v))
			return cfg_fail(err, "--redis: bad port \"%s\"",
			                colon + 1);
		a->port = (int)v;
	}
	return 0;
}

/*
 * Read "[[user]:password@]" at the start of rest into t; returns what
 * follows it, or NULL with err.
 */
static const char *
parse_password(const char *rest, struct redis_target *t, struct cfg_error *err)
{
	const char *at = strrchr(rest, '@'), *pw = rest;
	size_t len;

	if (!at)
		return rest;
	if (*pw == ':')
		pw++;
	else if (memchr(rest, ':', (size_t)(at - rest)))
		pw = strchr(rest, ':') + 1; /* user:password */
	len = (size_t)(at - pw);
	if (len >= sizeof(t->password)) {
		cfg_fail(err, "--redis: password too long");
		return NULL;
	}
	memcpy(t->password, pw, len);
	t->password[len] = '\0';
	return at + 1;
}

/* A database number after a '/'; 0, or -1 with err. */
static int
parse_db(const char *text, struct redis_target *t, struct cfg_error *err)
{
	long v;

	if (cfg_parse_number(text, 0, 1000000, &v))
		return cfg_fail(err, "--redis: database \"%s\" is not a number",
		                text);
	t->db = (int)v;
	return 0;
}

/* "host:port,host:port" (len bytes at p) into t->nodes. */
static int
parse_nodes(const char *p, size_t len, int default_port, struct redis_target *t,
            struct cfg_error *err)
{
	const char *end = p + len;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = (size_t)((comma ? comma : end) - p), skip = 0;

		while (skip < n && p[skip] == ' ')
			skip++;
		while (n > skip && p[n - 1] == ' ')
			n--;
		p += skip;
		n -= skip;
		if (n) {
			if (t->n_nodes == REDIS_MAX_NODES)
				return cfg_fail(err,
				                "--redis: at most %d nodes",
				                REDIS_MAX_NODES);
			if (parse_node(p, n, default_port,
			               &t->nodes[t->n_nodes++], err))
				return -1;
		}
		p = comma ? comma + 1 : end;
	}
	if (!t->n_nodes)
		return cfg_fail(err, "--redis: no host in URL");
	return 0;
}

/* After "redis://": "[:password@]host[:port][/db]". */
static int
parse_direct(const char *rest, struct redis_target *t, struct cfg_error *err)
{
	const char *hp = parse_password(rest, t, err), *slash;

	if (!hp)
		return -1;
	slash = strchr(hp, '/');
	if (slash && slash[1] && parse_db(slash + 1, t, err))
		return -1;
	t->n_nodes = 1;
	return parse_node(hp, slash ? (size_t)(slash - hp) : strlen(hp),
	                  DEFAULT_PORT, &t->nodes[0], err);
}

/* After "sentinel://": "[:password@]host[:port],.../name[/db]". */
static int
parse_sentinel(const char *rest, struct redis_target *t, struct cfg_error *err)
{
	const char *hp = parse_password(rest, t, err), *slash, *name, *db;
	size_t name_len;

	if (!hp)
		return -1;
	t->mode = REDIS_SENTINEL;
	slash = strchr(hp, '/');
	if (!slash || !slash[1])
		return cfg_fail(err, "--redis: sentinel:// needs the master's "
		                     "name, as sentinel://host:26379/mymaster");
	name = slash + 1;
	db = strchr(name, '/');
	name_len = db ? (size_t)(db - name) : strlen(name);
	if (!name_len || name_len >= sizeof(t->master_name))
		return cfg_fail(err, "--redis: master name must be 1-%zu bytes",
		                sizeof(t->master_name) - 1);
	memcpy(t->master_name, name, name_len);
	t->master_name[name_len] = '\0';
	if (db && db[1] && parse_db(db + 1, t, err))
		return -1;
	return parse_nodes(hp, (size_t)(slash - hp), DEFAULT_SENTINEL_PORT, t,
	                   err);
}

/* After "cluster://": "[:password@]host[:port],..." (database 0 only). */
static int
parse_cluster(const char *rest, struct redis_target *t, struct cfg_error *err)
{
	const char *hp = parse_password(rest, t, err), *slash;

	if (!hp)
		return -1;
	t->mode = REDIS_CLUSTER;
	slash = strchr(hp, '/');
	if (slash && slash[1])
		return cfg_fail(err, "--redis: a cluster has no databases: "
		                     "cluster://host:port,host:port");
	return parse_nodes(hp, slash ? (size_t)(slash - hp) : strlen(hp),
	                   DEFAULT_PORT, t, err);
}

int
cfg_parse_redis_url(const char *url, struct redis_target *t,
                    struct cfg_error *err)
{
	memset(t, 0, sizeof(*t));
	if (!strncasecmp(url, "redis://", 8))
		return parse_direct(url + 8, t, err);
	if (!strncasecmp(url, "sentinel://", 11))
		return parse_sentinel(url + 11, t, err);
	if (!strncasecmp(url, "cluster://", 10))
		return parse_cluster(url + 10, t, err);
	if (!strncasecmp(url, "unix://", 7)) {
		const char *path = url + 7;

		if (path[0] != '/')
			return cfg_fail(err,
			                "--redis: unix:// needs an absolute "
			                "path, as unix:///run/redis.sock");
		if (strlen(path) >= sizeof(t->nodes[0].path))
			return cfg_fail(err, "--redis: socket path too long");
		t->n_nodes = 1;
		t->nodes[0].is_unix = 1;
		strcpy(t->nodes[0].path, path);
		return 0;
	}
	return cfg_fail(err,
	                "--redis: \"%s\" is not a redis://host:port[/db], "
	                "unix:///path, sentinel://host:port,.../name or "
	                "cluster://host:port,... URL",
	                url);
}

/* The target, and the URL for logs with any password as "***". */
static int
parse_redis(struct cfg *c, const struct cfg_setting *s, const char *text,
            struct cfg_error *err)
{
	const char *at = strrchr(text, '@'), *scheme = strstr(text, "://");

	(void)s;
	if (cfg_parse_redis_url(text, &c->redis, err))
		return -1;
	if (c->redis.password[0] && at && scheme)
		snprintf(c->redis_url, sizeof(c->redis_url), "%.*s://***@%s",
		         (int)(scheme - text), text, at + 1);
	else
		snprintf(c->redis_url, sizeof(c->redis_url), "%s", text);
	return 0;
}

/* For logs, the URL as given but its password; else one that has it. */
static void
show_redis(const struct cfg *c, const struct cfg_setting *s, char *buf,
           size_t len, int exact)
{
	static const char *const schemes[] = {"redis", "sentinel", "cluster"};
	const struct redis_target *t = &c->redis;
	size_t used;

	(void)s;
	if (!exact || t->nodes[0].is_unix) {
		snprintf(buf, len, "%s", c->redis_url);
		return;
	}
	used = (size_t)snprintf(buf, len, "%s://%s%s%s", schemes[t->mode],
	                        t->password[0] ? ":" : "", t->password,
	                        t->password[0] ? "@" : "");
	for (int i = 0; i < t->n_nodes && used < len; i++) {
		const struct redis_addr *a = &t->nodes[i];
		int v6 = strchr(a->host, ':') != NULL;

		used += (size_t)snprintf(buf + used, len - used, "%s%s%s%s:%d",
		                         i ? "," : "", v6 ? "[" : "", a->host,
		                         v6 ? "]" : "", a->port);
	}
	if (used < len && t->mode == REDIS_SENTINEL)
		used += (size_t)snprintf(buf + used, len - used, "/%s",
		                         t->master_name);
	if (used < len && t->db)
		snprintf(buf + used, len - used, "/%d", t->db);
}

const struct cfg_kind cfg_kind_redis = {parse_redis, show_redis};

/* A password: kept as given; shown as *** but for --print-config. */
static int
parse_secret(struct cfg *c, const struct cfg_setting *s, const char *text,
             struct cfg_error *err)
{
	char *dst = (char *)c + s->offset;

	if (strlen(text) >= s->size)
		return cfg_fail(err, "--%s: longer than %zu bytes", s->name,
		                s->size - 1);
	strcpy(dst, text);
	return 0;
}

static void
show_secret(const struct cfg *c, const struct cfg_setting *s, char *buf,
            size_t len, int exact)
{
	const char *v = (const char *)c + s->offset;

	snprintf(buf, len, "%s", exact || !v[0] ? v : "***");
}

const struct cfg_kind cfg_kind_secret = {parse_secret, show_secret};
