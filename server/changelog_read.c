/* changelog_read.c: reading the change log in order on its own
 * connection (the backlog at start, then XREAD), numbering checked. */
#include "changelog_private.h"

#include "log.h"
#include "metrics.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_more(struct changelog *cl, redisAsyncContext *ac);

/*
 * Entries are numbered 1, 2, 3... by the Lua function: a jump means the
 * cap trimmed entries before this reader got to them; a restart at 1 is a
 * new dataset (its entries all come after ours).  The first entry read
 * (no number yet known) only sets the count.
 */
static void
check_numbering(struct changelog *cl, unsigned long long n)
{
	if (!n)
		return; /* written without the function: can't tell */
	if (cl->last_n && n != cl->last_n + 1 && n != 1) {
		unsigned long long missing =
		    n > cl->last_n ? n - cl->last_n - 1 : 0;

		log_err("%llu log entries were trimmed before they could be "
		        "read (the log is shorter than the burst): clients "
		        "resync",
		        missing);
		cl->ops->gap(cl->arg, missing);
	}
	cl->last_n = n;
}

/* Hand one [id, [field, value, ...]] entry to fn; 0, or -1 if malformed. */
static int
apply_entry(struct changelog *cl, const redisReply *e)
{
	const redisReply *id, *fields, *topic = NULL, *payload = NULL;
	unsigned long long n = 0;
	struct seq seq;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2)
		return -1;
	id = e->element[0];
	fields = e->element[1];
	if (id->type != REDIS_REPLY_STRING ||
	    seq_parse(id->str, id->len, &seq) ||
	    fields->type != REDIS_REPLY_ARRAY)
		return -1;
	for (size_t i = 0; i + 1 < fields->elements; i += 2) {
		const redisReply *k = fields->element[i];

		if (k->type != REDIS_REPLY_STRING)
			continue;
		if (!strcmp(k->str, "topic"))
			topic = fields->element[i + 1];
		else if (!strcmp(k->str, "payload"))
			payload = fields->element[i + 1];
		else if (!strcmp(k->str, "n") &&
		         fields->element[i + 1]->type == REDIS_REPLY_STRING)
			n = strtoull(fields->element[i + 1]->str, NULL, 10);
	}
	check_numbering(cl, n);
	cl->last = seq;
	cl->positioned = 1;
	if (!topic || !payload || topic->type != REDIS_REPLY_STRING ||
	    payload->type != REDIS_REPLY_STRING) {
		log_warn("log entry %s has no topic or payload: skipped",
		         id->str);
		return 0;
	}
	cl->ops->entry(cl->arg, seq, topic->str, topic->len, payload->str,
	               payload->len);
	return 0;
}

/* XREVRANGE at start: the newest max_len entries, applied oldest first. */
static void
on_backlog(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->reader) != ac)
		return;
	cl->read_sent = 0;
	if (r->type != REDIS_REPLY_ARRAY) {
		log_err("reading the log failed: %s",
		        r->type == REDIS_REPLY_ERROR ? r->str : "odd reply");
		rconn_fail_later(cl->reader, "XREVRANGE failed");
		return;
	}
	for (size_t i = r->elements; i > 0; i--)
		apply_entry(cl, r->element[i - 1]);
	cl->positioned = 1;
	log_notice("history rebuilt from %zu log entries", r->elements);
	rconn_ready(cl->reader);
	read_more(cl, ac);
}

/* XREAD's answer: nothing new (nil after the block), or new entries. */
static void
on_read(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->reader) != ac)
		return;
	cl->read_sent = 0;
	if (r->type == REDIS_REPLY_ERROR) {
		log_err("reading the log failed: %s", r->str);
		rconn_fail_later(cl->reader, "XREAD failed");
		return;
	}
	rconn_ready(cl->reader);
	if (r->type == REDIS_REPLY_ARRAY)
		for (size_t s = 0; s < r->elements; s++) {
			const redisReply *st = r->element[s];

			if (st->type != REDIS_REPLY_ARRAY ||
			    st->elements != 2 ||
			    st->element[1]->type != REDIS_REPLY_ARRAY)
				continue;
			for (size_t i = 0; i < st->element[1]->elements; i++)
				apply_entry(cl, st->element[1]->element[i]);
		}
	read_more(cl, ac);
}

static void
read_more(struct changelog *cl, redisAsyncContext *ac)
{
	char from[SEQ_STR_LEN];

	seq_format(cl->last, from);
	cl->read_sent = uv_now(cl->loop);
	/* Up to a whole log per read: after a burst one read catches up. */
	redisAsyncCommand(ac, on_read, cl,
	                  "XREAD COUNT %u BLOCK %d STREAMS %s %s", cl->max_len,
	                  READ_BLOCK_MS, cl->log_key, from);
}

static void
on_reader_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct changelog *cl = arg;

	(void)rc;
	cl->read_sent = uv_now(cl->loop);
	if (!cl->positioned)
		redisAsyncCommand(ac, on_backlog, cl,
		                  "XREVRANGE %s + - COUNT %u", cl->log_key,
		                  cl->max_len);
	else
		read_more(cl, ac);
}

static void
on_reader_down(struct rconn *rc, void *arg)
{
	struct changelog *cl = arg;

	(void)rc;
	cl->read_sent = 0;
}

const struct rconn_ops read_conn_ops = {.on_up = on_reader_up,
                                        .on_down = on_reader_down};

void
read_tick(struct changelog *cl, uint64_t now)
{
	if (cl->read_sent && rconn_ctx(cl->reader) &&
	    now - cl->read_sent > READ_BLOCK_MS + LIVENESS_SILENCE_MS)
		rconn_fail(cl->reader, "no answer to reading the log");
}
