/* rconn.c: connect, AUTH/SELECT, notice loss, back off, connect again. */
#include "rconn.h"

#include "log.h"
#include "redis_node.h"
#include "redis_uv.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS   100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 2000

/*
 * ac is the live hiredis context or NULL; every hiredis callback first
 * checks that the context it is about is still rc->ac, so a context we
 * have let go of can't act on the connection.
 */
struct rconn {
	uv_loop_t *loop;
	struct rconn_dest dest;
	struct redis_addr at; /* where the current (or last) attempt went */
	char at_text[280];
	int replicas; /* ROLE's count on connecting */
	char name[32];
	struct rconn_ops ops;
	void *arg;
	redisAsyncContext *ac;
	enum rconn_state state;
	unsigned backoff_ms;
	unsigned failures; /* attempts failed since it last proved ready */
	int stopping;
	int was_ready;
	char fail_why[128];
	uv_timer_t retry_timer;
	uv_timer_t connect_timer;
	uv_idle_t fail_idle; /* runs rconn_fail_later()'s request */
};

static void connect_now(struct rconn *rc);

redisAsyncContext *
rconn_ctx(const struct rconn *rc)
{
	return rc->state == RCONN_UP ? rc->ac : NULL;
}

int
rconn_replicas(const struct rconn *rc)
{
	return rc->replicas;
}

const char *
rconn_addr(const struct rconn *rc)
{
	return rc->at_text;
}

void
rconn_ready(struct rconn *rc)
{
	if (!rc->was_ready)
		log_notice("%s connection ready", rc->name);
	rc->backoff_ms = BACKOFF_FIRST_MS;
	rc->failures = 0;
	rc->was_ready = 1;
}

static void
on_retry_timer(uv_timer_t *t)
{
	connect_now(t->data);
}

/* The connection is gone (ac already released): tell, then retry later. */
static void
lost(struct rconn *rc, const char *why)
{
	int was_up = rc->state == RCONN_UP;

	rc->ac = NULL;
	rc->state = RCONN_DOWN;
	uv_timer_stop(&rc->connect_timer);
	if (was_up && rc->ops.on_down)
		rc->ops.on_down(rc, rc->arg);
	if (rc->stopping)
		return;
	/* The master may have moved: whoever knows is asked (again). */
	if (rc->dest.want_master && rc->dest.not_master)
		rc->dest.not_master(rc->dest.arg, &rc->at, why);
	if (rc->was_ready)
		log_warn("%s connection to %s lost: %s; reconnecting", rc->name,
		         rc->at_text, why);
	else if (rc->failures % 20 == 0)
		log_notice("%s: Redis unavailable at %s: %s; retrying in %u ms",
		           rc->name, rc->at_text[0] ? rc->at_text : "(none)",
		           why, rc->backoff_ms);
	rc->was_ready = 0;
	rc->failures++;
	uv_timer_start(&rc->retry_timer, on_retry_timer, rc->backoff_ms, 0);
	rc->backoff_ms *= 2;
	if (rc->backoff_ms > BACKOFF_MAX_MS)
		rc->backoff_ms = BACKOFF_MAX_MS;
}

/* Connected (and, if asked, found to be the master): the owner's turn. */
static void
up(struct rconn *rc)
{
	uv_timer_stop(&rc->connect_timer);
	rc->state = RCONN_UP;
	if (rc->ops.on_up)
		rc->ops.on_up(rc, rc->ac, rc->arg);
}

/*
 * ROLE's answer on a new connection: the master comes up; a replica is
 * left (with backoff) and whoever finds the master is told to look again;
 * a refused ROLE (an ACL without it) can't tell, so it is trusted.
 */
static void
on_role(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rconn *rc = ac->data;
	redisReply *r = reply;
	int role;

	(void)privdata;
	if (!rc || rc->ac != ac || !r || rc->state != RCONN_CONNECTING)
		return;
	role = redis_role(r, &rc->replicas);
	if (role < 0 && r->type == REDIS_REPLY_ERROR &&
	    strncmp(r->str, "NOPERM", 6) &&
	    strncmp(r->str, "ERR unknown command", 19)) {
		rconn_fail_later(rc, r->str); /* NOAUTH...: logged by setup */
		return;
	}
	if (role == 0) {
		if (rc->dest.not_master)
			rc->dest.not_master(rc->dest.arg, &rc->at,
			                    "ROLE says it is not the master");
		rconn_fail_later(rc, "not the master (ROLE)");
		return;
	}
	up(rc);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (!rc || rc->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context once we return. */
		lost(rc, ac->errstr[0] ? ac->errstr : "connect failed");
		return;
	}
	/* On a unix socket keepalive fails and would poison the context. */
	if (!rc->at.is_unix)
		redisEnableKeepAlive((redisContext *)&ac->c);
	if (!rc->dest.want_master)
		up(rc);
	/* else ROLE's answer (queued after AUTH and SELECT) decides */
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rconn *rc = ac->data;

	if (!rc || rc->ac != ac)
		return;
	lost(rc, status == REDIS_OK ? "disconnected"
	         : ac->errstr[0]    ? ac->errstr
	                            : "connection lost");
}

void
rconn_fail(struct rconn *rc, const char *why)
{
	redisAsyncContext *ac = rc->ac;

	if (!ac)
		return;
	/* Freeing calls pending reply callbacks with NULL: they see ac gone. */
	rc->ac = NULL;
	redisAsyncFree(ac);
	lost(rc, why);
}

static void
on_fail_idle(uv_idle_t *idle)
{
	struct rconn *rc = idle->data;

	uv_idle_stop(idle);
	rconn_fail(rc, rc->fail_why);
}

void
rconn_fail_later(struct rconn *rc, const char *why)
{
	snprintf(rc->fail_why, sizeof(rc->fail_why), "%s", why);
	uv_idle_start(&rc->fail_idle, on_fail_idle);
}

static void
on_connect_timeout(uv_timer_t *t)
{
	struct rconn *rc = t->data;

	if (rc->state == RCONN_CONNECTING)
		rconn_fail(rc, "connect timed out");
}

/* Reply to AUTH or SELECT: anything but OK ends the connection. */
static void
on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct rconn *rc = ac->data;
	redisReply *r = reply;

	if (!rc || rc->ac != ac || !r || r->type != REDIS_REPLY_ERROR)
		return;
	log_err("%s: Redis refused %s: %s", rc->name, (const char *)privdata,
	        r->str);
	rconn_fail_later(rc, "refused");
}

/* Where the attempt goes, as text for logs. */
static void
describe_at(struct rconn *rc)
{
	const struct redis_addr *a = &rc->at;

	if (a->is_unix)
		snprintf(rc->at_text, sizeof(rc->at_text), "%s", a->path);
	else
		snprintf(rc->at_text, sizeof(rc->at_text),
		         strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host,
		         a->port);
}

/* Start one connection attempt; queue AUTH/SELECT (and ROLE) on it. */
static void
connect_now(struct rconn *rc)
{
	const struct rconn_dest *d = &rc->dest;
	redisAsyncContext *ac;

	if (rc->stopping || rc->ac)
		return;
	rc->state = RCONN_CONNECTING;
	rc->replicas = 0;
	if (d->next(d->arg, &rc->at)) {
		lost(rc, "no master known yet");
		return;
	}
	describe_at(rc);
	ac = rc->at.is_unix ? redisAsyncConnectUnix(rc->at.path)
	                    : redisAsyncConnect(rc->at.host, rc->at.port);
	if (!ac || ac->err) {
		char why[128];

		snprintf(why, sizeof(why), "%s",
		         ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		lost(rc, why);
		return;
	}
	if (redis_uv_attach(ac, rc->loop) != REDIS_OK) {
		redisAsyncFree(ac);
		lost(rc, "cannot attach to the event loop");
		return;
	}
	ac->data = rc;
	rc->ac = ac;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (d->password && d->password[0])
		redisAsyncCommand(ac, on_setup_reply, "AUTH", "AUTH %s",
		                  d->password);
	if (d->db)
		redisAsyncCommand(ac, on_setup_reply, "SELECT", "SELECT %d",
		                  d->db);
	if (d->want_master)
		redisAsyncCommand(ac, on_role, NULL, "ROLE");
	uv_timer_start(&rc->connect_timer, on_connect_timeout,
	               CONNECT_TIMEOUT_MS, 0);
}

void
rconn_retarget(struct rconn *rc, const char *why)
{
	if (rc->stopping)
		return;
	uv_timer_stop(&rc->retry_timer);
	rc->backoff_ms = BACKOFF_FIRST_MS;
	if (rc->ac) {
		rconn_fail(rc, why); /* schedules a retry: made at once below */
		uv_timer_stop(&rc->retry_timer);
	}
	connect_now(rc);
}

struct rconn *
rconn_new(uv_loop_t *loop, const struct rconn_dest *dest, const char *name,
          const struct rconn_ops *ops, void *arg)
{
	struct rconn *rc = calloc(1, sizeof(*rc));

	if (!rc)
		return NULL;
	rc->loop = loop;
	rc->dest = *dest;
	snprintf(rc->name, sizeof(rc->name), "%s", name);
	rc->ops = *ops;
	rc->arg = arg;
	rc->backoff_ms = BACKOFF_FIRST_MS;
	uv_timer_init(loop, &rc->retry_timer);
	uv_timer_init(loop, &rc->connect_timer);
	uv_idle_init(loop, &rc->fail_idle);
	rc->retry_timer.data = rc->connect_timer.data = rc;
	rc->fail_idle.data = rc;
	return rc;
}

void
rconn_start(struct rconn *rc)
{
	connect_now(rc);
}

void
rconn_stop(struct rconn *rc)
{
	redisAsyncContext *ac = rc->ac;

	rc->stopping = 1;
	uv_timer_stop(&rc->retry_timer);
	uv_timer_stop(&rc->connect_timer);
	uv_idle_stop(&rc->fail_idle);
	uv_close((uv_handle_t *)&rc->retry_timer, NULL);
	uv_close((uv_handle_t *)&rc->connect_timer, NULL);
	uv_close((uv_handle_t *)&rc->fail_idle, NULL);
	if (ac) {
		rc->ac = NULL;
		rc->state = RCONN_DOWN;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
}

void
rconn_free(struct rconn *rc)
{
	free(rc);
}
