/* changelog_read.c: reading the change log in order on its own
 * connection (the backlog at start, then XREAD), numbering checked. */
#include "changelog_private.h"

#include "log.h"
#include "metrics.h"
#include "redis_node.h"

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
	struct log_entry le = {0};
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
		else if (!strcmp(k->str, "fired"))
			le.fired = 1;
		else if (!strcmp(k->str, "by") &&
		         fields->element[i + 1]->type == REDIS_REPLY_STRING) {
			le.by = fields->element[i + 1]->str;
			le.by_len = fields->element[i + 1]->len;
		}
	}
	check_numbering(cl, n);
	cl->last = seq;
	if (seq_cmp(seq, cl->highest) > 0)
		cl->highest = seq;
	cl->positioned = 1;
	if (!topic || !payload || topic->type != REDIS_REPLY_STRING ||
	    payload->type != REDIS_REPLY_STRING) {
		log_warn("log entry %s has no topic or payload: skipped",
		         id->str);
		return 0;
	}
	le.seq = seq;
	le.topic = topic->str;
	le.topic_len = topic->len;
	le.payload = payload->str;
	le.payload_len = payload->len;
	cl->ops->entry(cl->arg, &le);
	return 0;
}

/* A read refused: by a node that is no longer the master, look again. */
static void
read_failed(struct changelog *cl, const char *cmd, const char *err)
{
	log_err("reading the log at %s failed: %s", rconn_addr(cl->reader),
	        err);
	if (redis_error_moved(err))
		where_suspect(cl->where, err);
	rconn_fail_later(cl->reader, cmd);
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
		read_failed(cl, "XREVRANGE failed",
		            r->type == REDIS_REPLY_ERROR ? r->str
		                                         : "odd reply");
		return;
	}
	for (size_t i = r->elements; i > 0; i--)
		apply_entry(cl, r->element[i - 1]);
	cl->positioned = 1;
	log_notice("history rebuilt from %zu log entries", r->elements);
	if (cl->rebasing) {
		cl->rebasing = 0;
		cl->ops->rebase(cl->arg, 1, r->elements ? &cl->last : NULL);
	}
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
		read_failed(cl, "XREAD failed", r->str);
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

/* The epoch's value, for the reader: at start, and when it comes back. */
static void
on_read_epoch(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->reader) != ac)
		return;
	if (r->type != REDIS_REPLY_STRING) {
		cl->check.same_epoch = 0; /* gone: Redis lost its data */
		return;
	}
	cl->check.same_epoch =
	    !cl->read_epoch[0] || !strcmp(cl->read_epoch, r->str);
	snprintf(cl->read_epoch, sizeof(cl->read_epoch), "%s", r->str);
}

/* The id and number of the one entry of an XRANGE answer, if any. */
static int
one_entry(const redisReply *r, struct seq *id, unsigned long long *n)
{
	const redisReply *e, *f;

	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 1)
		return 0;
	e = r->element[0];
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    seq_parse(e->element[0]->str, e->element[0]->len, id))
		return 0;
	f = e->element[1];
	*n = 0;
	for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements;
	     i += 2)
		if (f->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(f->element[i]->str, "n") &&
		    f->element[i + 1]->type == REDIS_REPLY_STRING)
			*n = strtoull(f->element[i + 1]->str, NULL, 10);
	return 1;
}

static void
on_at_last(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	struct seq id;

	if (reply && rconn_ctx(cl->reader) == ac)
		cl->check.found = one_entry(reply, &id, &cl->check.n);
}

static void
on_first(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	unsigned long long n;

	if (reply && rconn_ctx(cl->reader) == ac)
		cl->check.has_first = one_entry(reply, &cl->check.first, &n);
}

/* Read the whole log anew (at start, or after a rollback). */
static void
read_backlog(struct changelog *cl, redisAsyncContext *ac)
{
	redisAsyncCommand(ac, on_read_epoch, cl, "GET %s", cl->epoch_key);
	schedule_read_held(cl, ac);
	redisAsyncCommand(ac, on_backlog, cl, "XREVRANGE %s + - COUNT %u",
	                  cl->log_key, cl->max_len);
}

/* The log's last entry: the last answer of the check; decide. */
static void
on_top(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	char last[SEQ_STR_LEN], top[SEQ_STR_LEN] = "none";
	unsigned long long n;

	if (!reply || rconn_ctx(cl->reader) != ac)
		return;
	cl->check.has_top = one_entry(reply, &cl->check.top, &n);
	if (log_judge(&cl->check, cl->last, cl->last_n) != LOG_ROLLED_BACK) {
		read_more(cl, ac);
		return;
	}
	seq_format(cl->last, last);
	if (cl->check.has_top)
		seq_format(cl->check.top, top);
	metrics.log_rollbacks++;
	log_err("log rolled back: %s ends at %s, this instance had read up "
	        "to %s (a failover lost entries): reading it anew, every "
	        "client is resynced",
	        rconn_addr(cl->reader), top, last);
	record_raise(cl);
	cl->rebasing = 1;
	cl->positioned = 0;
	cl->last_n = 0;
	cl->ops->rebase(cl->arg, 0, NULL);
	read_backlog(cl, ac);
}

/*
 * Connected: at start read the log's last max_len entries; after a
 * reconnect first check the log still holds what was read, then go on.
 */
static void
on_reader_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct changelog *cl = arg;
	char last[SEQ_STR_LEN];

	(void)rc;
	cl->read_sent = uv_now(cl->loop);
	if (!cl->positioned) {
		read_backlog(cl, ac);
		return;
	}
	memset(&cl->check, 0, sizeof(cl->check));
	seq_format(cl->last, last);
	redisAsyncCommand(ac, on_read_epoch, cl, "GET %s", cl->epoch_key);
	redisAsyncCommand(ac, on_at_last, cl, "XRANGE %s %s %s", cl->log_key,
	                  last, last);
	redisAsyncCommand(ac, on_first, cl, "XRANGE %s - + COUNT 1",
	                  cl->log_key);
	redisAsyncCommand(ac, on_top, cl, "XREVRANGE %s + - COUNT 1",
	                  cl->log_key);
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
