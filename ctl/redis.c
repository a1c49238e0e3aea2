/* redis.c: tickerctl's one Redis connection (hiredis, synchronous): where
 * to (the URL, a Sentinel's master, a Cluster's node and its MOVED
 * answers), and recording a payload with FCALL tickerd_record. */
#include "ctl.h"

#include "changelog.h" /* tickerd_lua: the function library, compiled in */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#define CONNECT_TIMEOUT_S 3
#define COMMAND_TIMEOUT_S 10
#define MAX_REDIRECTS     5 /* MOVED or ASK answers followed per command */
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

int
ctl_is_cluster(const struct ctl *c)
{
	return !strncasecmp(c->redis_url, "cluster://", 10);
}

/* AUTH and SELECT as the URL says.  CTL_DONE or the failure's status. */
static int
log_in(struct ctl *c)
{
	const struct redis_target *t = &c->target;
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

/* Connect c->rc to a (closing what it had) and log in; a status. */
static int
connect_to(struct ctl *c, const struct redis_addr *a)
{
	struct timeval connect_tv = {CONNECT_TIMEOUT_S, 0},
	               command_tv = {COMMAND_TIMEOUT_S, 0};

	ctl_disconnect(c);
	c->rc = a->is_unix
	            ? redisConnectUnixWithTimeout(a->path, connect_tv)
	            : redisConnectWithTimeout(a->host, a->port, connect_tv);
	if (!c->rc || c->rc->err ||
	    redisSetTimeout(c->rc, command_tv) != REDIS_OK)
		return unreachable(c);
	return log_in(c);
}

int
ctl_connect(struct ctl *c)
{
	struct cfg_error err;
	int status = CTL_UNREACHABLE, quiet = c->quiet;

	if (cfg_parse_redis_url(c->redis_url, &c->target, &err)) {
		ctl_say("%s", err.text);
		return CTL_USAGE;
	}
	if (c->target.mode == REDIS_SENTINEL &&
	    (status = ctl_ask_sentinels(c, &c->target)) != CTL_DONE)
		return status;
	/* A cluster's nodes in turn: the first that answers will do (its
	 * MOVED answers say where the log is); only the last one's failure
	 * is said. */
	for (int i = 0; i < c->target.n_nodes; i++) {
		c->quiet = quiet || i + 1 < c->target.n_nodes;
		status = connect_to(c, &c->target.nodes[i]);
		if (status != CTL_UNREACHABLE)
			break;
	}
	c->quiet = quiet;
	return status;
}

void
ctl_disconnect(struct ctl *c)
{
	if (c->rc)
		redisFree(c->rc);
	c->rc = NULL;
}

/*
 * If r is a Cluster's "MOVED <slot> <host>:<port>" (or ASK), connect there
 * and return 1; else 0.  *status is set when the new node fails.
 */
static int
redirected(struct ctl *c, const redisReply *r, int *status)
{
	struct redis_addr a = {0};
	const char *where, *colon;

	if (r->type != REDIS_REPLY_ERROR ||
	    (strncmp(r->str, "MOVED ", 6) && strncmp(r->str, "ASK ", 4)) ||
	    !(where = strrchr(r->str, ' ')) || !(colon = strrchr(where, ':')) ||
	    (size_t)(colon - where - 1) >= sizeof(a.host))
		return 0;
	memcpy(a.host, where + 1, (size_t)(colon - where - 1));
	a.port = atoi(colon + 1);
	*status = connect_to(c, &a);
	return 1;
}

/*
 * argv on c->rc, following a Cluster's redirections: the reply (error
 * replies included), or NULL with *status (said).
 */
static redisReply *
run(struct ctl *c, int argc, const char **argv, int *status)
{
	redisReply *r;

	for (int hops = 0;; hops++) {
		r = redisCommandArgv(c->rc, argc, argv, NULL);
		if (!r) {
			*status = unreachable(c);
			return NULL;
		}
		if (hops == MAX_REDIRECTS || !redirected(c, r, status))
			return r;
		freeReplyObject(r);
		if (*status != CTL_DONE)
			return NULL;
	}
}

redisReply *
ctl_command(struct ctl *c, const char *what, int argc, const char **argv,
            int *status)
{
	redisReply *r;

	*status = CTL_DONE;
	r = run(c, argc, argv, status);
	if (r && r->type == REDIS_REPLY_ERROR) {
		ctl_say("%s: Redis refused: %s", what, r->str);
		freeReplyObject(r);
		*status = CTL_REFUSED;
		return NULL;
	}
	return r;
}

/*
 * FCALL tickerd_record once: the reply (error replies included), or NULL
 * with *status.
 */
static redisReply *
fcall_record(struct ctl *c, const char *topic, const char *payload, int *status)
{
	char log[CTL_KEY_LEN], seen[CTL_KEY_LEN];
	const char *argv[] = {"FCALL", "tickerd_record", "2", log, seen,
	                      topic,   payload};

	ctl_log_key(c, "log", log);
	ctl_log_key(c, "seen", seen);
	return run(c, 7, argv, status);
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
	int status = CTL_DONE;

	if (!c->rc && (status = ctl_connect(c)) != CTL_DONE)
		return status;
	r = fcall_record(c, topic, payload, &status);
	if (r && r->type == REDIS_REPLY_ERROR &&
	    !strncmp(r->str, FUNCTION_MISSING, strlen(FUNCTION_MISSING))) {
		freeReplyObject(r);
		if ((status = load_library(c)) != CTL_DONE)
			return status;
		r = fcall_record(c, topic, payload, &status);
	}
	if (!r)
		return status;
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
