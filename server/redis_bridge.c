/* redis_bridge.c: hiredis async on libuv, PSUBSCRIBE, reconnect with backoff.
 */
#include "redis_bridge.h"

#include "log.h"
#include "metrics.h"
#include "redis_uv.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <stdlib.h>
#include <string.h>

#define BACKOFF_FIRST_MS   100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 3000

/*
 * One per process.  ac is the live hiredis context or NULL; every hiredis
 * callback first checks that the context it is about is still rb->ac, so a
 * context we have let go of (timed out, failed) can't act on the bridge.
 */
struct redis_bridge {
	uv_loop_t *loop;
	struct redis_target target;
	char *pattern;
	rb_message_fn fn;
	void *arg;
	redisAsyncContext *ac;
	enum rb_state state;
	unsigned backoff_ms;
	unsigned failures; /* attempts failed since the last subscription */
	int stopping;
	uv_timer_t retry_timer;
	uv_timer_t connect_timer;
};

static void connect_now(struct redis_bridge *rb);

const char *
rb_state_name(enum rb_state state)
{
	switch (state) {
	case RB_SUBSCRIBED:
		return "connected";
	case RB_CONNECTING:
		return "connecting";
	default:
		return "down";
	}
}

enum rb_state
rb_state(const struct redis_bridge *rb)
{
	return rb->state;
}

static void
on_retry_timer(uv_timer_t *t)
{
	connect_now(t->data);
}

/* Forget the current context (if any) and try again after the backoff. */
static void
schedule_retry(struct redis_bridge *rb, const char *why)
{
	rb->ac = NULL;
	uv_timer_stop(&rb->connect_timer);
	if (rb->stopping) {
		rb->state = RB_DOWN;
		return;
	}
	if (rb->state == RB_SUBSCRIBED)
		log_warn("lost Redis: %s; serving on, reconnecting", why);
	else
		log_notice("Redis unavailable: %s; retrying in %u ms", why,
		           rb->backoff_ms);
	rb->state = RB_DOWN;
	uv_timer_start(&rb->retry_timer, on_retry_timer, rb->backoff_ms, 0);
	rb->backoff_ms *= 2;
	if (rb->backoff_ms > BACKOFF_MAX_MS)
		rb->backoff_ms = BACKOFF_MAX_MS;
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct redis_bridge *rb = ac->data;

	if (!rb || rb->ac != ac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context once we return. */
		schedule_retry(rb,
		               ac->errstr[0] ? ac->errstr : "connect failed");
		return;
	}
	uv_timer_stop(&rb->connect_timer);
	if (!rb->target.is_unix) /* on a unix socket it fails and poisons c */
		redisEnableKeepAlive((redisContext *)&ac->c);
	log_info("connected to Redis, subscribing");
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_bridge *rb = ac->data;

	if (!rb || rb->ac != ac)
		return;
	schedule_retry(rb, status == REDIS_OK ? "disconnected"
	                   : ac->errstr[0]    ? ac->errstr
	                                      : "connection lost");
}

static void
on_connect_timeout(uv_timer_t *t)
{
	struct redis_bridge *rb = t->data;
	redisAsyncContext *ac = rb->ac;

	if (!ac || rb->state != RB_CONNECTING)
		return;
	rb->ac = NULL;
	ac->data = NULL;
	redisAsyncFree(ac);
	schedule_retry(rb, "connect timed out");
}

/* Replies to AUTH and SELECT: anything but OK ends the connection. */
static void
on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_bridge *rb = ac->data;
	redisReply *r = reply;

	if (!rb || rb->ac != ac || !r || r->type != REDIS_REPLY_ERROR)
		return;
	log_err("Redis refused %s: %s", (const char *)privdata, r->str);
	redisAsyncDisconnect(ac);
}

/* Every reply on the subscription: the confirmation, then messages. */
static void
on_pmessage(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct redis_bridge *rb = ac->data;
	redisReply *r = reply;

	(void)privdata;
	if (!rb || rb->ac != ac || !r)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		log_err("PSUBSCRIBE failed: %s", r->str);
		redisAsyncDisconnect(ac);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(r->element[0]->str, "psubscribe")) {
		rb->state = RB_SUBSCRIBED;
		rb->backoff_ms = BACKOFF_FIRST_MS;
		rb->failures = 0;
		metrics.redis_connects++;
		log_notice("subscribed to %s", rb->pattern);
		return;
	}
	if (!strcmp(r->element[0]->str, "pmessage") && r->elements == 4 &&
	    r->element[2]->type == REDIS_REPLY_STRING &&
	    r->element[3]->type == REDIS_REPLY_STRING)
		rb->fn(rb->arg, r->element[2]->str, r->element[2]->len,
		       r->element[3]->str, r->element[3]->len);
}

/* Start one connection attempt; queue AUTH/SELECT/PSUBSCRIBE on it. */
static void
connect_now(struct redis_bridge *rb)
{
	const struct redis_target *t = &rb->target;
	redisAsyncContext *ac;

	if (rb->stopping || rb->ac)
		return;
	rb->state = RB_CONNECTING;
	ac = t->is_unix ? redisAsyncConnectUnix(t->path)
	                : redisAsyncConnect(t->host, t->port);
	if (!ac) {
		schedule_retry(rb, "out of memory");
		return;
	}
	if (ac->err) {
		char why[128];

		snprintf(why, sizeof(why), "%s", ac->errstr);
		redisAsyncFree(ac);
		schedule_retry(rb, why);
		return;
	}
	ac->data = rb;
	rb->ac = ac;
	if (redis_uv_attach(ac, rb->loop) != REDIS_OK) {
		rb->ac = NULL;
		redisAsyncFree(ac);
		schedule_retry(rb, "cannot attach to the event loop");
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	if (t->password[0])
		redisAsyncCommand(ac, on_setup_reply, "AUTH", "AUTH %s",
		                  t->password);
	if (t->db)
		redisAsyncCommand(ac, on_setup_reply, "SELECT", "SELECT %d",
		                  t->db);
	redisAsyncCommand(ac, on_pmessage, NULL, "PSUBSCRIBE %s", rb->pattern);
	uv_timer_start(&rb->connect_timer, on_connect_timeout,
	               CONNECT_TIMEOUT_MS, 0);
}

struct redis_bridge *
rb_new(uv_loop_t *loop, const struct redis_target *target, const char *pattern,
       rb_message_fn fn, void *arg)
{
	struct redis_bridge *rb = calloc(1, sizeof(*rb));

	if (!rb || !(rb->pattern = strdup(pattern))) {
		free(rb);
		return NULL;
	}
	rb->loop = loop;
	rb->target = *target;
	rb->fn = fn;
	rb->arg = arg;
	rb->backoff_ms = BACKOFF_FIRST_MS;
	uv_timer_init(loop, &rb->retry_timer);
	uv_timer_init(loop, &rb->connect_timer);
	rb->retry_timer.data = rb->connect_timer.data = rb;
	return rb;
}

void
rb_start(struct redis_bridge *rb)
{
	connect_now(rb);
}

void
rb_stop(struct redis_bridge *rb)
{
	redisAsyncContext *ac = rb->ac;

	rb->stopping = 1;
	rb->state = RB_DOWN;
	uv_timer_stop(&rb->retry_timer);
	uv_timer_stop(&rb->connect_timer);
	uv_close((uv_handle_t *)&rb->retry_timer, NULL);
	uv_close((uv_handle_t *)&rb->connect_timer, NULL);
	if (ac) {
		rb->ac = NULL;
		ac->data = NULL;
		redisAsyncDisconnect(ac);
	}
}

void
rb_free(struct redis_bridge *rb)
{
	if (!rb)
		return;
	free(rb->pattern);
	free(rb);
}
