/* changelog_schedule.c: what the log does later: releasing embargoed
 * items and retracting expired ones (tickerd_schedule, tickerd_fire), the
 * requests owed to Redis, and the timer of the earliest. */
#include "changelog_private.h"

#include "isotime.h"
#include "log.h"
#include "redis_node.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OWED_MAX 100000

static const char *const action_names[] = {"release", "expire"};

static void
owed_free(struct changelog *cl, struct owed_cmd *o)
{
	if (o->prev)
		o->prev->next = o->next;
	else
		cl->owed = o->next;
	if (o->next)
		o->next->prev = o->prev;
	cl->n_owed--;
	for (int i = 0; i < o->argc; i++)
		free(o->argv[i]);
	free(o);
}

static void send_owed(struct changelog *cl, redisAsyncContext *ac,
                      struct owed_cmd *o);
static void on_due(uv_timer_t *t);

/* Run the due timer for the earliest known action (0: none). */
static void
arm(struct changelog *cl, uint64_t due)
{
	uint64_t now = isotime_now_ms();

	cl->next_due = due;
	uv_timer_stop(&cl->due_timer);
	if (due)
		uv_timer_start(&cl->due_timer, on_due,
		               due > now ? due - now : 0, 0);
}

/* Its answer: done (either way), or, from a node that is not the master,
 * owed still (sent again on the next connection). */
static void
on_owed(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct owed_cmd *o = privdata;
	struct changelog *cl = o->cl;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac)
		return; /* gone: sent again on reconnect */
	if (r->type == REDIS_REPLY_ERROR && redis_error_moved(r->str)) {
		o->sent = 0;
		return;
	}
	if (r->type == REDIS_REPLY_ERROR)
		log_err("Redis refused %s: %s", o->argv[1], r->str);
	owed_free(cl, o);
}

static void
send_owed(struct changelog *cl, redisAsyncContext *ac, struct owed_cmd *o)
{
	o->sent = 1;
	redisAsyncCommandArgv(ac, on_owed, o, o->argc, (const char **)o->argv,
	                      o->argvlen);
	(void)cl;
}

/* Queue argv (copied) and send it if connected. */
static void
owe(struct changelog *cl, int argc, const char **argv, const size_t *len)
{
	struct owed_cmd *o = calloc(1, sizeof(*o)), *last;
	redisAsyncContext *ac = rconn_ctx(cl->cmd);

	if (!o || cl->n_owed >= OWED_MAX) {
		free(o);
		log_err("cannot keep %s for Redis: %u wait already", argv[1],
		        cl->n_owed);
		return;
	}
	o->cl = cl;
	o->argc = argc;
	for (int i = 0; i < argc; i++) {
		o->argv[i] = malloc(len[i] + 1);
		if (!o->argv[i]) {
			o->argc = i;
			for (int j = 0; j < i; j++)
				free(o->argv[j]);
			free(o);
			log_err("out of memory: %s lost", argv[1]);
			return;
		}
		memcpy(o->argv[i], argv[i], len[i]);
		o->argv[i][len[i]] = '\0';
		o->argvlen[i] = len[i];
	}
	for (last = cl->owed; last && last->next; last = last->next)
		;
	o->prev = last;
	if (last)
		last->next = o;
	else
		cl->owed = o;
	cl->n_owed++;
	if (ac && !cl->reloading)
		send_owed(cl, ac, o);
}

/* "<action>\n<topic>\n<id>" into buf. */
static void
action_text(enum log_action a, const char *topic, const char *id, char *buf,
            size_t len)
{
	snprintf(buf, len, "%s\n%s\n%s", action_names[a], topic, id);
}

void
changelog_schedule(struct changelog *cl, enum log_action a, const char *topic,
                   const char *id, uint64_t ms, struct seq at,
                   const char *payload, size_t len)
{
	char action[320], when[24], entry[SEQ_STR_LEN], maxlen[16];
	const char *argv[11] = {"FCALL",     "tickerd_schedule",
	                        "2",         cl->due_key,
	                        cl->log_key, action,
	                        when,        entry,
	                        topic,       payload,
	                        maxlen};
	size_t argvlen[11];

	action_text(a, topic, id, action, sizeof(action));
	snprintf(when, sizeof(when), "%llu", (unsigned long long)(ms ? ms : 1));
	snprintf(maxlen, sizeof(maxlen), "%u", cl->max_len);
	seq_format(at, entry);
	for (int i = 0; i < 11; i++)
		argvlen[i] = i == 9 ? len : strlen(argv[i]);
	owe(cl, 11, argv, argvlen);
	if (!cl->next_due || ms < cl->next_due)
		arm(cl, ms ? ms : 1);
}

void
changelog_unschedule(struct changelog *cl, enum log_action a, const char *topic,
                     const char *id, struct seq at)
{
	char action[320], entry[SEQ_STR_LEN];
	const char *argv[6] = {
	    "FCALL", "tickerd_unschedule", "1", cl->due_key, action, entry};
	size_t argvlen[6];

	action_text(a, topic, id, action, sizeof(action));
	seq_format(at, entry);
	for (int i = 0; i < 6; i++)
		argvlen[i] = strlen(argv[i]);
	owe(cl, 6, argv, argvlen);
}

/* ZRANGE due 0 0 WITHSCORES: the earliest action, or none. */
static void
on_earliest(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac)
		return;
	cl->polling = 0;
	if (r->type != REDIS_REPLY_ARRAY)
		return;
	arm(cl, r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING
	            ? strtoull(r->element[1]->str, NULL, 10)
	            : 0);
}

static void
ask_earliest(struct changelog *cl, redisAsyncContext *ac)
{
	if (cl->polling)
		return;
	cl->polling = 1;
	redisAsyncCommand(ac, on_earliest, cl, "ZRANGE %s 0 0 WITHSCORES",
	                  cl->due_key);
}

/* tickerd_fire's answer: how many it appended (they come back through the
 * reader); then what is next. */
static void
on_fired(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac)
		return;
	cl->firing = 0;
	if (r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_info("%lld scheduled entries appended to the log",
		         r->integer);
	else if (r->type == REDIS_REPLY_ERROR)
		log_err("tickerd_fire failed: %s", r->str);
	ask_earliest(cl, ac);
}

/* The earliest action is due: have Redis append what is due now. */
static void
on_due(uv_timer_t *t)
{
	struct changelog *cl = t->data;
	redisAsyncContext *ac = rconn_ctx(cl->cmd);

	if (!ac || cl->firing || !cl->lib_loaded)
		return; /* the tick asks again */
	cl->firing = 1;
	redisAsyncCommand(
	    ac, on_fired, cl, "FCALL tickerd_fire 2 %s %s %llu %u", cl->due_key,
	    cl->log_key, (unsigned long long)isotime_now_ms(), cl->max_len);
}

void
schedule_tick(struct changelog *cl)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);

	if (!ac)
		return;
	if (cl->next_due && cl->next_due <= isotime_now_ms())
		on_due(&cl->due_timer);
	else
		ask_earliest(cl, ac);
}

void
schedule_conn_up(struct changelog *cl, redisAsyncContext *ac)
{
	cl->firing = cl->polling = 0;
	for (struct owed_cmd *o = cl->owed; o; o = o->next)
		send_owed(cl, ac, o);
	ask_earliest(cl, ac);
}

void
schedule_conn_down(struct changelog *cl)
{
	cl->firing = cl->polling = 0;
	for (struct owed_cmd *o = cl->owed; o; o = o->next)
		o->sent = 0;
}

/*
 * ZRANGE due 0 -1 WITHSCORES on the reader, before the backlog: every
 * release Redis holds ("release\n<topic>\n<id>", when) to ops->held.
 */
static void
on_held(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->reader) != ac || r->type != REDIS_REPLY_ARRAY)
		return;
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *m = r->element[i], *ms = r->element[i + 1];
		char buf[320], *topic, *id;

		if (m->type != REDIS_REPLY_STRING ||
		    ms->type != REDIS_REPLY_STRING || m->len >= sizeof(buf))
			continue;
		memcpy(buf, m->str, m->len + 1);
		if (!(topic = strchr(buf, '\n')) ||
		    !(id = strchr(topic + 1, '\n')))
			continue;
		*topic++ = '\0';
		*id++ = '\0';
		if (!strcmp(buf, action_names[LOG_RELEASE]))
			cl->ops->held(cl->arg, topic, id,
			              strtoull(ms->str, NULL, 10));
	}
}

void
schedule_read_held(struct changelog *cl, redisAsyncContext *ac)
{
	redisAsyncCommand(ac, on_held, cl, "ZRANGE %s 0 -1 WITHSCORES",
	                  cl->due_key);
}

void
schedule_init(struct changelog *cl)
{
	uv_timer_init(cl->loop, &cl->due_timer);
	cl->due_timer.data = cl;
}

void
schedule_stop(struct changelog *cl)
{
	uv_timer_stop(&cl->due_timer);
	uv_close((uv_handle_t *)&cl->due_timer, NULL);
	if (cl->n_owed)
		log_warn("%u scheduling requests were not yet answered by "
		         "Redis",
		         cl->n_owed);
}

void
schedule_free(struct changelog *cl)
{
	while (cl->owed)
		owed_free(cl, cl->owed);
}
