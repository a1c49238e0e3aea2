/* redis.c: tickerctl's one Redis connection (hiredis, synchronous), and
 * recording a payload in the change log with FCALL tickerd_record. */
#include "ctl.h"

#include "changelog.h" /* tickerd_lua: the function library, compiled in */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#define CONNECT_TIMEOUT_S 3
#define COMMAND_TIMEOUT_S 10
#define FUNCTION_MISSING  "ERR Function not found"

/* Say why the connection failed (hiredis's words); CTL_UNREACHABLE. */
static int
unreachable(const struct ctl *c)
{
	if (!c->quiet)
		ctl_say("Redis at %s: %s", c->redis_url,
		        c->rc && c->rc->errstr[0] ? c->rc->errstr
		                                  : "cannot connect");
	return CTL_UNREACHABLE;
}

/*
 * The URL's target, or a usage error for the kind tickerctl cannot follow
 * yet (a Cluster's master).  CTL_DONE or CTL_USAGE.
 */
static int
read_url(const struct ctl *c, struct redis_target *t)
{
	struct cfg_error err;

	if (cfg_parse_redis_url(c->redis_url, t, &err)) {
		ctl_say("%s", err.text);
		return CTL_USAGE;
	}
	if (t->mode == REDIS_CLUSTER) {
		ctl_say("--redis: tickerctl does not speak to a Redis Cluster "
		        "yet: use redis-cli -c FCALL tickerd_record 2 {%s}:log "
		        "{%s}:seen TOPIC PAYLOAD",
		        c->prefix, c->prefix);
		return CTL_USAGE;
	}
	return CTL_DONE;
}

/* AUTH and SELECT as the URL says.  CTL_DONE or the failure's status. */
static int
log_in(struct ctl *c, const struct redis_target *t)
{
	char db[16];
	int status = CTL_DONE;
	redisReply *r;

	if (t->password[0]) {
		r = ctl_command(c, "AUTH", 2,
		                (const char *[]){"AUTH", t->password}, &status);
		if (!r)
			return status;
		freeReplyObject(r);
	}
	if (t->db) {
		snprintf(db, sizeof(db), "%d", t->db);
		r = ctl_command(c, "SELECT", 2, (const char *[]){"SELECT", db},
		                &status);
		if (!r)
			return status;
		freeReplyObject(r);
	}
	return CTL_DONE;
}

int
ctl_connect(struct ctl *c)
{
	struct timeval connect_tv = {CONNECT_TIMEOUT_S, 0},
	               command_tv = {COMMAND_TIMEOUT_S, 0};
	struct redis_target t;
	const struct redis_addr *a = &t.nodes[0];
	int status = read_url(c, &t);

	if (status == CTL_DONE && t.mode == REDIS_SENTINEL)
		status = ctl_ask_sentinels(c, &t);
	if (status != CTL_DONE)
		return status;
	c->rc = a->is_unix
	            ? redisConnectUnixWithTimeout(a->path, connect_tv)
	            : redisConnectWithTimeout(a->host, a->port, connect_tv);
	if (!c->rc || c->rc->err)
		return unreachable(c);
	if (redisSetTimeout(c->rc, command_tv) != REDIS_OK)
		return unreachable(c);
	return log_in(c, &t);
}

void
ctl_disconnect(struct ctl *c)
{
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
}

redisReply *
ctl_command(struct ctl *c, const char *what, int argc, const char **argv,
            int *status)
{
	redisReply *r = redisCommandArgv(c->rc, argc, argv, NULL);

	if (!r) {
		*status = unreachable(c);
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		ctl_say("%s: Redis refused: %s", what, r->str);
		freeReplyObject(r);
		*status = CTL_REFUSED;
		return NULL;
	}
	return r;
}

/*
 * FCALL tickerd_record once: the reply (error replies included), or NULL
 * when the connection failed.
 */
static redisReply *
fcall_record(struct ctl *c, const char *topic, const char *payload)
{
	char log[CTL_KEY_LEN], seen[CTL_KEY_LEN];
	const char *argv[] = {"FCALL", "tickerd_record", "2", log, seen,
	                      topic,   payload};

	ctl_log_key(c, "log", log);
	ctl_log_key(c, "seen", seen);
	return redisCommandArgv(c->rc, 7, argv, NULL);
}

/*
 * Load the function library, as tickerd does when it connects: this Redis
 * has never seen a tickerd.  Without REPLACE: a tickerd that loaded its own
 * meanwhile keeps it.  CTL_DONE, or the failure's status.
 */
static int
load_library(struct ctl *c)
{
	redisReply *r = redisCommandArgv(
	    c->rc, 3, (const char *[]){"FUNCTION", "LOAD", tickerd_lua}, NULL);

	if (!r)
		return unreachable(c);
	if (r->type == REDIS_REPLY_ERROR && !strstr(r->str, "already exists")) {
		ctl_say("FUNCTION LOAD: Redis refused: %s", r->str);
		freeReplyObject(r);
		return CTL_REFUSED;
	}
	freeReplyObject(r);
	return CTL_DONE;
}

int
ctl_record(struct ctl *c, const char *topic, const char *payload)
{
	redisReply *r;
	int status;

	if (!c->rc && (status = ctl_connect(c)) != CTL_DONE)
		return status;
	r = fcall_record(c, topic, payload);
	if (r && r->type == REDIS_REPLY_ERROR &&
	    !strncmp(r->str, FUNCTION_MISSING, strlen(FUNCTION_MISSING))) {
		freeReplyObject(r);
		if ((status = load_library(c)) != CTL_DONE)
			return status;
		r = fcall_record(c, topic, payload);
	}
	if (!r)
		return unreachable(c);
	status = CTL_REFUSED;
	if (r->type == REDIS_REPLY_ERROR)
		ctl_say("Redis refused the record: %s", r->str);
	else if (r->type != REDIS_REPLY_STRING)
		ctl_say("Redis answered the record with no entry id");
	else {
		printf("%s\n", r->str);
		status = CTL_DONE;
	}
	freeReplyObject(r);
	return status;
}
