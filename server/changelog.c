/* changelog.c: record payloads once in a Redis Stream, read it back in order.
 */
#include "changelog.h"

#include "log.h"
#include "metrics.h"
#include "rconn.h"
#include "subscriber.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS          1000
#define SILENCE_LIMIT_MS 3000
#define READ_BLOCK_MS    1000
#define READ_COUNT       1000
#define DEDUPE_TTL_S     10
#define QUEUE_MAX        100000

/* How Redis 7 answers FCALL once the library is gone (FUNCTION DELETE/FLUSH).
 */
#define FUNCTION_MISSING "ERR Function not found"

/* A payload waiting for Redis to acknowledge its recording. */
struct record {
	struct record *next;
	unsigned long token; /* the same on every resend of this record */
	char *topic;
	char *payload;
	size_t len;
};

/* One per process. */
struct changelog {
	uv_loop_t *loop;
	struct subscriber *sub;
	log_entry_fn fn;
	log_gap_fn gap_fn;
	void *arg;
	unsigned max_len;
	char log_key[96], seen_key[96], epoch_key[96], probe_channel[96];

	/* The command connection and what it owes. */
	struct rconn *cmd;
	/*
	 * The queue, oldest first, is three runs: kept (answered "function
	 * not found", sent again once the library is loaded again), inflight
	 * (sent, answers awaited in order), then not yet sent.
	 */
	struct record *queue, *queue_tail;
	unsigned queued, inflight, kept;
	int lib_loaded; /* FUNCTION LOAD answered OK on this connection */
	/* Records wait: the library was found missing and LOAD is sent, or
	 * LOAD was refused and this connection is about to be dropped. */
	int reloading;
	uint64_t ping_sent; /* loop ms; 0 = none outstanding */
	uint64_t last_pong;
	unsigned long probes;
	unsigned long records; /* tokens handed out */
	char epoch[40];
	char my_epoch[40]; /* what this instance offers with SET NX */

	/* The reader connection and where it is. */
	struct rconn *reader;
	int positioned; /* last is meaningful */
	struct seq last;
	unsigned long long last_n; /* the last entry's number; 0: unknown */
	uint64_t read_sent;        /* loop ms a read went out; 0 = none */
	uint64_t last_tick;        /* loop ms of the last liveness tick */

	uv_timer_t tick;
};

const char *
changelog_epoch(const struct changelog *cl)
{
	return cl->epoch[0] ? cl->epoch : NULL;
}

int
changelog_healthy(const struct changelog *cl)
{
	uint64_t now = uv_now(cl->loop);

	return rconn_ctx(cl->cmd) && rconn_ctx(cl->reader) && cl->last_pong &&
	       now - cl->last_pong <= SILENCE_LIMIT_MS && cl->positioned &&
	       cl->lib_loaded;
}

/* ---- recording ---- */

static void send_record(struct changelog *cl, struct record *r);

/* Unlink r (after prev, NULL for the head) from the queue and free it. */
static void
drop_record(struct changelog *cl, struct record *prev, struct record *r)
{
	if (prev)
		prev->next = r->next;
	else
		cl->queue = r->next;
	if (cl->queue_tail == r)
		cl->queue_tail = prev;
	cl->queued--;
	free(r->topic);
	free(r->payload);
	free(r);
}

static void on_function_loaded(redisAsyncContext *ac, void *reply,
                               void *privdata);

/*
 * Redis answered a record with "function not found": someone ran FUNCTION
 * DELETE or FUNCTION FLUSH.  Load the library again at once (once, however
 * many records were refused meanwhile); until it is loaded the records wait
 * and tickerd says it is degraded.
 */
static void
library_missing(struct changelog *cl, redisAsyncContext *ac, const char *why)
{
	cl->lib_loaded = 0;
	if (cl->reloading)
		return;
	cl->reloading = 1;
	log_warn("Redis has no tickerd function library (%s): loading it "
	         "again; %u payloads wait for it",
	         why, cl->queued);
	redisAsyncCommand(ac, on_function_loaded, cl,
	                  "FUNCTION LOAD REPLACE %s", tickerd_lua);
}

/*
 * FCALL's answer for the oldest record sent and not yet answered (the
 * first after the kept ones): recorded, or refused for good (dropped,
 * counted, logged), or refused because the library is gone (kept, and sent
 * again once it is loaded again).
 */
static void
on_recorded(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	struct record *prev = NULL, *rec = cl->queue;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac || !cl->inflight)
		return; /* connection gone: it is sent again on reconnect */
	for (unsigned i = 0; i < cl->kept && rec; i++) {
		prev = rec;
		rec = rec->next;
	}
	if (!rec)
		return;
	cl->inflight--;
	if (r->type == REDIS_REPLY_ERROR &&
	    !strncmp(r->str, FUNCTION_MISSING, strlen(FUNCTION_MISSING))) {
		cl->kept++;
		library_missing(cl, ac, r->str);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		metrics.record_errors++;
		log_err("Redis refused to record a %zu-byte payload on %s: %s",
		        rec->len, rec->topic, r->str);
	}
	drop_record(cl, prev, rec);
}

static void
send_record(struct changelog *cl, struct record *r)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);
	char maxlen[16], ttl[16], token[128];

	snprintf(maxlen, sizeof(maxlen), "%u", cl->max_len);
	snprintf(ttl, sizeof(ttl), "%d", DEDUPE_TTL_S);
	/* Resent after a lost answer, the token makes it count once. */
	snprintf(token, sizeof(token), "%s:%lu", cl->probe_channel, r->token);
	redisAsyncCommand(ac, on_recorded, cl,
	                  "FCALL tickerd_record 2 %s %s %s %b %s %s %s",
	                  cl->log_key, cl->seen_key, r->topic, r->payload,
	                  r->len, maxlen, ttl, token);
	cl->inflight++;
}

void
changelog_record(struct changelog *cl, const char *topic, const char *payload,
                 size_t len)
{
	struct record *r = calloc(1, sizeof(*r));

	if (!r || !(r->topic = strdup(topic)) ||
	    !(r->payload = malloc(len ? len : 1))) {
		if (r)
			free(r->topic);
		free(r);
		metrics.record_errors++;
		log_err("out of memory: payload on %s lost", topic);
		return;
	}
	memcpy(r->payload, payload, len);
	r->len = len;
	r->token = ++cl->records;
	if (cl->queued >= QUEUE_MAX && cl->queue && cl->inflight == 0) {
		metrics.record_errors++;
		log_err("%u payloads wait for Redis: dropping the oldest",
		        cl->queued);
		if (cl->kept)
			cl->kept--;
		drop_record(cl, NULL, cl->queue);
	}
	if (cl->queue_tail)
		cl->queue_tail->next = r;
	else
		cl->queue = r;
	cl->queue_tail = r;
	cl->queued++;
	if (rconn_ctx(cl->cmd) && !cl->reloading)
		send_record(cl, r);
}

/* ---- the command connection ---- */

/*
 * FUNCTION LOAD's answer, on connecting or after the library went missing.
 * A reload's answer comes after those of every record sent before it, and
 * nothing was sent since: every waiting record is sent again, in order.
 */
static void
on_function_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		log_err("cannot load the tickerd function library (Redis 7 "
		        "or later needed): %s",
		        r->str);
		cl->lib_loaded = 0;
		cl->reloading = 1; /* nothing more to send on this one */
		rconn_fail_later(cl->cmd, "FUNCTION LOAD refused");
		return;
	}
	cl->lib_loaded = 1;
	if (!cl->reloading)
		return;
	cl->reloading = 0;
	log_notice("tickerd function library loaded again: sending the %u "
	           "waiting payloads",
	           cl->queued);
	cl->kept = 0;
	for (struct record *q = cl->queue; q; q = q->next)
		send_record(cl, q);
}

static void
on_epoch(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac || r->type != REDIS_REPLY_STRING)
		return;
	if (cl->epoch[0] && strcmp(cl->epoch, r->str)) {
		metrics.epoch_changes++;
		log_warn("Redis lost its data (epoch %s, was %s): clients "
		         "resuming from before get a resync",
		         r->str, cl->epoch);
	}
	snprintf(cl->epoch, sizeof(cl->epoch), "%s", r->str);
}

static void
on_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;

	if (!reply || rconn_ctx(cl->cmd) != ac)
		return;
	cl->ping_sent = 0;
	cl->last_pong = uv_now(cl->loop);
	rconn_ready(cl->cmd);
}

/*
 * A fresh random epoch to offer with SET NX: if Redis still has one it
 * stays; if Redis lost its data (even since our own last connection) the
 * new value marks the new dataset.
 */
static void
new_epoch(struct changelog *cl)
{
	unsigned char rnd[8];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		uint64_t v = (uint64_t)uv_hrtime() ^ (uint64_t)getpid() << 32;

		memcpy(rnd, &v, sizeof(rnd));
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(cl->my_epoch + 2 * i, 3, "%02x", rnd[i]);
}

static void
on_cmd_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct changelog *cl = arg;

	(void)rc;
	new_epoch(cl);
	redisAsyncCommand(ac, on_function_loaded, cl,
	                  "FUNCTION LOAD REPLACE %s", tickerd_lua);
	redisAsyncCommand(ac, NULL, NULL, "SET %s %s NX", cl->epoch_key,
	                  cl->my_epoch);
	redisAsyncCommand(ac, on_epoch, cl, "GET %s", cl->epoch_key);
	cl->ping_sent = uv_now(cl->loop);
	redisAsyncCommand(ac, on_pong, cl, "PING");
	cl->inflight = 0;
	cl->kept = 0;
	cl->reloading = 0;
	for (struct record *r = cl->queue; r; r = r->next)
		send_record(cl, r);
}

static void
on_cmd_down(struct rconn *rc, void *arg)
{
	struct changelog *cl = arg;

	(void)rc;
	cl->inflight = 0;
	cl->kept = 0;
	cl->reloading = 0;
	cl->lib_loaded = 0;
	cl->ping_sent = 0;
	cl->last_pong = 0;
}

/* ---- the reader connection ---- */

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
		cl->gap_fn(cl->arg, missing);
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
	cl->fn(cl->arg, seq, topic->str, topic->len, payload->str,
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

/* ---- liveness ---- */

/*
 * Every second: drop a connection whose command has gone unanswered past
 * the limit (a frozen Redis keeps TCP open but says nothing), else PING
 * and publish a probe the subscriber must hear.
 */
static void
on_tick(uv_timer_t *t)
{
	struct changelog *cl = t->data;
	uint64_t now = uv_now(cl->loop), since_tick = now - cl->last_tick;
	redisAsyncContext *ac = rconn_ctx(cl->cmd);
	char n[24];

	/*
	 * Timers run before I/O in a loop turn: after a turn busy for seconds
	 * (a burst to 10,000 clients) the answers may be waiting unread.
	 * Judge silence only on a loop that has been turning.
	 */
	cl->last_tick = now;
	if (since_tick > 2 * TICK_MS) {
		if (cl->ping_sent)
			cl->ping_sent = now;
		if (cl->read_sent)
			cl->read_sent = now;
		return;
	}
	if (cl->read_sent && rconn_ctx(cl->reader) &&
	    now - cl->read_sent > READ_BLOCK_MS + SILENCE_LIMIT_MS)
		rconn_fail(cl->reader, "no answer to reading the log");
	if (!ac)
		return;
	if (cl->ping_sent && now - cl->ping_sent > SILENCE_LIMIT_MS) {
		rconn_fail(cl->cmd, "no answer to PING");
		return;
	}
	if (!cl->ping_sent) {
		cl->ping_sent = now;
		redisAsyncCommand(ac, on_pong, cl, "PING");
	}
	snprintf(n, sizeof(n), "%lu", ++cl->probes);
	redisAsyncCommand(ac, NULL, NULL, "PUBLISH %s %s", cl->probe_channel,
	                  n);
	sub_probe_sent(cl->sub, cl->probes);
}

/* ---- life cycle ---- */

struct changelog *
changelog_new(uv_loop_t *loop, const struct redis_target *target,
              const char *prefix, unsigned max_len, struct subscriber *sub,
              const char *probe_channel, log_entry_fn fn, log_gap_fn gap_fn,
              void *arg)
{
	static const struct rconn_ops cmd_ops = {.on_up = on_cmd_up,
	                                         .on_down = on_cmd_down};
	static const struct rconn_ops reader_ops = {.on_up = on_reader_up,
	                                            .on_down = on_reader_down};
	struct changelog *cl = calloc(1, sizeof(*cl));

	if (!cl)
		return NULL;
	cl->loop = loop;
	cl->sub = sub;
	cl->fn = fn;
	cl->gap_fn = gap_fn;
	cl->arg = arg;
	cl->max_len = max_len;
	snprintf(cl->log_key, sizeof(cl->log_key), "%s:log", prefix);
	snprintf(cl->seen_key, sizeof(cl->seen_key), "%s:seen", prefix);
	snprintf(cl->epoch_key, sizeof(cl->epoch_key), "%s:epoch", prefix);
	snprintf(cl->probe_channel, sizeof(cl->probe_channel), "%s",
	         probe_channel);
	cl->cmd = rconn_new(loop, target, "commands", &cmd_ops, cl);
	cl->reader = rconn_new(loop, target, "log reader", &reader_ops, cl);
	if (!cl->cmd || !cl->reader) {
		rconn_free(cl->cmd);
		rconn_free(cl->reader);
		free(cl);
		return NULL;
	}
	uv_timer_init(loop, &cl->tick);
	cl->tick.data = cl;
	return cl;
}

void
changelog_start(struct changelog *cl)
{
	rconn_start(cl->cmd);
	rconn_start(cl->reader);
	uv_timer_start(&cl->tick, on_tick, TICK_MS, TICK_MS);
}

void
changelog_stop(struct changelog *cl)
{
	uv_timer_stop(&cl->tick);
	uv_close((uv_handle_t *)&cl->tick, NULL);
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
	while (cl->queue)
		drop_record(cl, NULL, cl->queue);
	rconn_free(cl->cmd);
	rconn_free(cl->reader);
	free(cl);
}
