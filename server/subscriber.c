/* subscriber.c: PSUBSCRIBE <prefix>:* on its own reconnecting connection. */
#include "subscriber.h"

#include "liveness.h"
#include "log.h"
#include "metrics.h"
#include "rconn.h"
#include "redis_where.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One per process; the loop's timer watches it every second. */
struct subscriber {
	struct rconn *rc;
	char *pattern;
	char *probe_channel;
	const struct sub_ops *ops;
	void *arg;
	int subscribed;
	uint64_t up_at; /* loop time the connection came up */
	/* Probe numbers: the last one sent, the last one whose PUBLISH
	 * Redis answered or lost (in order: resolved), the last one Redis
	 * answered (published), the last one heard here. */
	unsigned long sent, resolved, published, heard;
	uint64_t unheard_since;     /* since when one published is unheard */
	struct liveness_tick ticks; /* the loop turns: silence can be judged */
	uv_timer_t watchdog;
};

/* Parse a probe's number; 0 if it is not one. */
static unsigned long
probe_number(const char *p, size_t len)
{
	char buf[24];

	if (!len || len >= sizeof(buf))
		return 0;
	memcpy(buf, p, len);
	buf[len] = '\0';
	return strtoul(buf, NULL, 10);
}

/* Every reply on the subscription: the confirmation, then messages. */
static void
on_pmessage(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct subscriber *s = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(s->rc) != ac)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		log_err("PSUBSCRIBE failed: %s", r->str);
		rconn_fail_later(s->rc, "PSUBSCRIBE refused");
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (!strcmp(r->element[0]->str, "psubscribe")) {
		s->subscribed = 1;
		rconn_ready(s->rc);
		metrics.redis_connects++;
		log_notice("subscribed to %s", s->pattern);
		return;
	}
	if (!strcmp(r->element[0]->str, "message") && r->elements == 3 &&
	    r->element[2]->type == REDIS_REPLY_STRING) {
		/* Only the probe channel is SUBSCRIBEd: this is a probe. */
		unsigned long n =
		    probe_number(r->element[2]->str, r->element[2]->len);

		if (n > s->heard)
			s->heard = n;
		return;
	}
	if (strcmp(r->element[0]->str, "pmessage") || r->elements != 4 ||
	    r->element[2]->type != REDIS_REPLY_STRING ||
	    r->element[3]->type != REDIS_REPLY_STRING)
		return;
	/* Heard: not silent.  In a burst the probe waits behind thousands
	 * of messages, read more slowly than Redis sends them; only silence
	 * counts against the connection. */
	if (s->heard < s->published)
		s->unheard_since = uv_now(s->watchdog.loop);
	s->ops->message(s->arg, r->element[2]->str, r->element[2]->len,
	                r->element[3]->str, r->element[3]->len);
}

static void
on_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct subscriber *s = arg;

	(void)rc;
	s->up_at = uv_now(s->watchdog.loop);
	s->heard = s->sent; /* probes sent before now were never to be heard */
	redisAsyncCommand(ac, on_pmessage, s, "PSUBSCRIBE %s", s->pattern);
	redisAsyncCommand(ac, on_pmessage, s, "SUBSCRIBE %s", s->probe_channel);
}

/*
 * The oldest probe whose PUBLISH was pending is resolved.  Once Redis has
 * published it, it must be heard here: its time starts then, not when it
 * was sent (it may wait behind a burst of records on the command
 * connection for seconds).
 */
static void
probe_done(void *arg, int published)
{
	struct subscriber *s = arg;

	s->resolved++;
	if (!published || s->resolved <= s->heard)
		return;
	if (s->heard >= s->published)
		s->unheard_since = uv_now(s->watchdog.loop);
	s->published = s->resolved;
}

/* Publish the next probe (through ops->probe): it must be heard here. */
static void
send_probe(struct subscriber *s)
{
	char text[24];

	snprintf(text, sizeof(text), "%lu", s->sent + 1);
	if (s->ops->probe(s->arg, s->probe_channel, text, probe_done, s))
		return;
	s->sent++;
}

/*
 * Every second: drop a connection that is up but silent (no confirmation,
 * or its probes unheard), then send the next probe.
 */
static void
on_watchdog(uv_timer_t *t)
{
	struct subscriber *s = t->data;
	uint64_t now = uv_now(t->loop);

	if (liveness_stalled(&s->ticks, now, LIVENESS_TICK_MS)) {
		/* Probes may wait unread: their time starts again. */
		s->unheard_since = now;
		if (!s->subscribed)
			s->up_at = now;
		return;
	}
	if (rconn_ctx(s->rc)) {
		if (!s->subscribed && now - s->up_at > LIVENESS_SILENCE_MS) {
			rconn_fail(s->rc, "no answer to PSUBSCRIBE");
		} else if (s->subscribed && s->heard < s->published &&
		           now - s->unheard_since > LIVENESS_SILENCE_MS) {
			char why[64];

			snprintf(why, sizeof(why),
			         "probe %lu unheard for %u ms", s->heard + 1,
			         LIVENESS_SILENCE_MS);
			s->subscribed = 0;
			rconn_fail(s->rc, why);
		}
	}
	send_probe(s);
}

static void
on_down(struct rconn *rc, void *arg)
{
	struct subscriber *s = arg;

	(void)rc;
	s->subscribed = 0;
}

struct subscriber *
sub_new(uv_loop_t *loop, struct redis_where *where, const char *pattern,
        const char *probe_channel, const struct sub_ops *ops, void *arg)
{
	static const struct rconn_ops conn_ops = {.on_up = on_up,
	                                          .on_down = on_down};
	struct subscriber *s = calloc(1, sizeof(*s));

	if (!s || !(s->pattern = strdup(pattern)) ||
	    !(s->probe_channel = strdup(probe_channel)) ||
	    !(s->rc = rconn_new(loop, where_dest(where), "subscriber",
	                        &conn_ops, s))) {
		if (s) {
			free(s->pattern);
			free(s->probe_channel);
		}
		free(s);
		return NULL;
	}
	where_follow(where, s->rc);
	s->ops = ops;
	s->arg = arg;
	uv_timer_init(loop, &s->watchdog);
	s->watchdog.data = s;
	return s;
}

void
sub_start(struct subscriber *s)
{
	uv_timer_start(&s->watchdog, on_watchdog, LIVENESS_TICK_MS,
	               LIVENESS_TICK_MS);
	rconn_start(s->rc);
}

int
sub_subscribed(const struct subscriber *s)
{
	return s->subscribed && rconn_ctx(s->rc);
}

void
sub_stop(struct subscriber *s)
{
	s->subscribed = 0;
	uv_timer_stop(&s->watchdog);
	uv_close((uv_handle_t *)&s->watchdog, NULL);
	rconn_stop(s->rc);
}

void
sub_free(struct subscriber *s)
{
	if (!s)
		return;
	rconn_free(s->rc);
	free(s->pattern);
	free(s->probe_channel);
	free(s);
}
