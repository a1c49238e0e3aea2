/* changelog.c: record payloads once in a Redis Stream, read it back in
 * order: the change log's life and liveness (recording and reading live in
 * changelog_record.c and changelog_read.c). */
#include "changelog_private.h"

#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *
changelog_epoch(const struct changelog *cl)
{
	return cl->epoch[0] ? cl->epoch : NULL;
}

const char *
changelog_trouble(const struct changelog *cl)
{
	uint64_t now = uv_now(cl->loop);

	if (!rconn_ctx(cl->cmd) || !rconn_ctx(cl->reader) || !cl->last_pong ||
	    now - cl->last_pong > LIVENESS_SILENCE_MS)
		return "redis";
	if (!cl->lib_loaded)
		return "library";
	if (!cl->positioned)
		return "log";
	return NULL;
}

int
changelog_healthy(const struct changelog *cl)
{
	return !changelog_trouble(cl);
}

/*
 * Every second: drop a connection whose command has gone unanswered past
 * the limit (a frozen Redis keeps TCP open but says nothing), else PING.
 */
static void
on_tick(uv_timer_t *t)
{
	struct changelog *cl = t->data;
	uint64_t now = uv_now(cl->loop);

	if (liveness_stalled(&cl->ticks, now, LIVENESS_TICK_MS)) {
		/* What was sent may wait unread: its time starts again. */
		if (cl->ping_sent)
			cl->ping_sent = now;
		if (cl->read_sent)
			cl->read_sent = now;
		return;
	}
	read_tick(cl, now);
	record_tick(cl, now);
	schedule_tick(cl);
}

/* ---- life cycle ---- */

struct changelog *
changelog_new(uv_loop_t *loop, struct redis_where *where, const char *prefix,
              unsigned max_len, const char *instance,
              const struct changelog_ops *ops, void *arg)
{
	struct changelog *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->loop = loop;
	cl->ops = ops;
	cl->arg = arg;
	cl->max_len = max_len;
	snprintf(cl->log_key, sizeof(cl->log_key), "%s:log", prefix);
	snprintf(cl->seen_key, sizeof(cl->seen_key), "%s:seen", prefix);
	snprintf(cl->epoch_key, sizeof(cl->epoch_key), "%s:epoch", prefix);
	snprintf(cl->due_key, sizeof(cl->due_key), "%s:due", prefix);
	snprintf(cl->instance, sizeof(cl->instance), "%s", instance);
	cl->where = where;
	cl->cmd = rconn_new(loop, where_dest(where), "commands",
	                    &record_conn_ops, cl);
	cl->reader = rconn_new(loop, where_dest(where), "log reader",
	                       &read_conn_ops, cl);
	if (!cl->cmd || !cl->reader) {
		rconn_free(cl->cmd);
		rconn_free(cl->reader);
		free(cl);
		return NULL;
	}
	where_follow(where, cl->cmd);
	where_follow(where, cl->reader);
	uv_timer_init(loop, &cl->tick);
	cl->tick.data = cl;
	schedule_init(cl);
	return cl;
}

void
changelog_start(struct changelog *cl)
{
	rconn_start(cl->cmd);
	rconn_start(cl->reader);
	uv_timer_start(&cl->tick, on_tick, LIVENESS_TICK_MS, LIVENESS_TICK_MS);
}

void
changelog_stop(struct changelog *cl)
{
	uv_timer_stop(&cl->tick);
	uv_close((uv_handle_t *)&cl->tick, NULL);
	schedule_stop(cl);
	rconn_stop(cl->cmd);
	rconn_stop(cl->reader);
	if (cl->queued)
		log_warn("%u payloads were not yet recorded in Redis",
		         cl->queued);
}

void
changelog_free(struct changelog *cl)
{
	if (!cl)
		return;
	record_free_all(cl);
	schedule_free(cl);
	rconn_free(cl->cmd);
	rconn_free(cl->reader);
	free(cl);
}
