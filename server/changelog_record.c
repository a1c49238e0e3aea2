/* changelog_record.c: recording payloads in the change log (FCALL on the
 * command connection, in order, resent until acknowledged), the function
 * library, the epoch, PING. */
#include "changelog_private.h"

#include "log.h"
#include "metrics.h"
#include "redis_node.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void send_record(struct changelog *cl, struct record *r);

/* Tell r's asker of Redis's answer (id) or why there will be none. */
static void
tell(struct record *r, const char *id, const char *why)
{
	changelog_done_fn done = r->done;

	r->done = NULL;
	if (done)
		done(r->done_arg, id, why);
}

void
free_record(struct record *r)
{
	tell(r, NULL, "dropped");
	free(r->by);
	free(r->own_token);
	free(r->topic);
	free(r->payload);
	free(r);
}

/* Unlink r (after prev, NULL for the head) from the queue. */
static void
unlink_record(struct changelog *cl, struct record *prev, struct record *r)
{
	if (prev)
		prev->next = r->next;
	else
		cl->queue = r->next;
	if (cl->queue_tail == r)
		cl->queue_tail = prev;
	cl->queued--;
}

/* Unlink r (after prev, NULL for the head) from the queue and free it. */
static void
drop_record(struct changelog *cl, struct record *prev, struct record *r)
{
	unlink_record(cl, prev, r);
	free_record(r);
}

/*
 * Redis answered a record with an error meaning "not the master" (READONLY,
 * MOVED...): the record is kept, the master looked for again, and the
 * connection dropped: on the next every kept record is sent again.
 */
static void
not_the_master(struct changelog *cl, const char *why)
{
	cl->kept++;
	if (cl->moving)
		return;
	cl->moving = 1;
	log_warn("Redis at %s refused a record: %s; %u payloads wait for the "
	         "master",
	         rconn_addr(cl->cmd), why, cl->queued);
	where_suspect(cl->where, why);
	rconn_fail_later(cl->cmd, "not the master");
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
	/* An answer: Redis is there.  A PING queued behind a burst of
	 * records waits for them; only silence counts against it. */
	cl->last_pong = uv_now(cl->loop);
	if (cl->ping_sent)
		cl->ping_sent = cl->last_pong;
	for (unsigned i = 0; i < cl->kept && rec; i++) {
		prev = rec;
		rec = rec->next;
	}
	if (!rec)
		return;
	cl->inflight--;
	/* Gone, or one from before the "by" argument (another, older
	 * tickerd loaded it): load ours. */
	if (r->type == REDIS_REPLY_ERROR &&
	    (!strncmp(r->str, FUNCTION_MISSING, strlen(FUNCTION_MISSING)) ||
	     (rec->by && strstr(r->str, "tickerd_record: usage")))) {
		cl->kept++;
		library_missing(cl, ac, r->str);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR && redis_error_moved(r->str)) {
		not_the_master(cl, r->str);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		metrics.record_errors++;
		log_err("Redis refused to record a %zu-byte payload on %s: %s",
		        rec->len, rec->topic, r->str);
		tell(rec, NULL, r->str);
		drop_record(cl, prev, rec);
		return;
	}
	rconn_ready(cl->cmd);
	unlink_record(cl, prev, rec);
	if (r->type == REDIS_REPLY_STRING)
		tell(rec, r->str, NULL);
	else
		tell(rec, NULL, "unexpected answer");
	recorded(cl, ac, rec);
}

static void
send_record(struct changelog *cl, struct record *r)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);
	char maxlen[16], ttl[16], token[128];

	snprintf(maxlen, sizeof(maxlen), "%u", cl->max_len);
	snprintf(ttl, sizeof(ttl), "%d", DEDUPE_TTL_S);
	/* Resent after a lost answer, the token makes it count once. */
	snprintf(token, sizeof(token), "%s:%lu", cl->instance, r->token);
	if (r->sends++)
		metrics.records_resent++;
	r->wait_gen = cl->wait_gen;
	if (r->by)
		redisAsyncCommand(
		    ac, on_recorded, cl,
		    "FCALL tickerd_record 2 %s %s %s %b %s %s %s %s",
		    cl->log_key, cl->seen_key, r->topic, r->payload, r->len,
		    maxlen, ttl, r->own_token ? r->own_token : token, r->by);
	else
		redisAsyncCommand(ac, on_recorded, cl,
		                  "FCALL tickerd_record 2 %s %s %s %b %s %s %s",
		                  cl->log_key, cl->seen_key, r->topic,
		                  r->payload, r->len, maxlen, ttl, token);
	cl->inflight++;
}

/* A new record of payload on topic, not yet queued; NULL on ENOMEM. */
static struct record *
new_record(const char *topic, const char *payload, size_t len)
{
	struct record *r = calloc(1, sizeof(*r));

	if (!r || !(r->topic = strdup(topic)) ||
	    !(r->payload = malloc(len ? len : 1))) {
		if (r)
			free(r->topic);
		free(r);
		metrics.record_errors++;
		log_err("out of memory: payload on %s lost", topic);
		return NULL;
	}
	memcpy(r->payload, payload, len);
	r->len = len;
	return r;
}

/* Queue r (sent at once when the connection is up). */
static void
enqueue(struct changelog *cl, struct record *r)
{
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

struct record *
changelog_record_as(struct changelog *cl, const char *topic,
                    const char *payload, size_t len, const char *by,
                    const char *token, changelog_done_fn done, void *arg)
{
	struct record *r = new_record(topic, payload, len);

	if (!r)
		return NULL;
	if (!(r->by = strdup(by)) ||
	    (token && !(r->own_token = strdup(token)))) {
		free_record(r);
		return NULL;
	}
	r->done = done;
	r->done_arg = arg;
	enqueue(cl, r);
	return r;
}

void
changelog_forget(struct record *r)
{
	if (r)
		r->done = NULL;
}

void
changelog_record(struct changelog *cl, const char *topic, const char *payload,
                 size_t len)
{
	struct record *r = new_record(topic, payload, len);

	if (r)
		enqueue(cl, r);
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
	if (r->type == REDIS_REPLY_ERROR && redis_error_moved(r->str)) {
		log_warn("Redis at %s cannot load the function library: %s",
		         rconn_addr(cl->cmd), r->str);
		cl->lib_loaded = 0;
		cl->reloading = 1;
		where_suspect(cl->where, r->str);
		rconn_fail_later(cl->cmd, "not the master");
		return;
	}
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

/*
 * The once-a-second ROLE (tickerd's PING): the node answers, is still the
 * master (a failover may have made it a replica without closing
 * connections), and has so many replicas.
 */
static void
on_pong(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	int replicas, role;

	if (!reply || rconn_ctx(cl->cmd) != ac)
		return;
	cl->ping_sent = 0;
	cl->last_pong = uv_now(cl->loop);
	role = redis_role(reply, &replicas);
	if (role == 0 && !cl->moving) {
		cl->moving = 1;
		log_warn("Redis at %s is no longer the master",
		         rconn_addr(cl->cmd));
		where_suspect(cl->where, "the master became a replica");
		rconn_fail_later(cl->cmd, "no longer the master");
		return;
	}
	if (role == 1)
		note_replicas(cl, replicas);
	if (!cl->had_replicas)
		confirm_all(cl);
	else if (cl->unconfirmed && !cl->waiting)
		send_wait(cl, ac);
	/* Proven to work (a record answered also proves it): no more
	 * backoff.  Not while records wait, or without the library: a node
	 * refusing them must not be retried at once, again and again. */
	if (!cl->queued && cl->lib_loaded)
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

/*
 * Ids must keep growing from what this instance has read, even on a master
 * that lost some of it (a failover) or whose clock is behind: raise the
 * stream's last id to the last one read (tickerd_raise does nothing when
 * it is already past it).
 */
static void
raise_log_id(struct changelog *cl, redisAsyncContext *ac)
{
	char last[SEQ_STR_LEN];

	if (!cl->highest.ms && !cl->highest.n)
		return;
	seq_format(cl->highest, last);
	redisAsyncCommand(ac, NULL, NULL, "FCALL tickerd_raise 1 %s %s",
	                  cl->log_key, last);
}

void
record_raise(struct changelog *cl)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);

	if (ac)
		raise_log_id(cl, ac);
}

/* Connected: load the library, offer the epoch, ROLE, resend what waits. */
static void
on_cmd_up(struct rconn *rc, redisAsyncContext *ac, void *arg)
{
	struct changelog *cl = arg;

	new_epoch(cl);
	redisAsyncCommand(ac, on_function_loaded, cl,
	                  "FUNCTION LOAD REPLACE %s", tickerd_lua);
	redisAsyncCommand(ac, NULL, NULL, "SET %s %s NX", cl->epoch_key,
	                  cl->my_epoch);
	redisAsyncCommand(ac, on_epoch, cl, "GET %s", cl->epoch_key);
	cl->ping_sent = uv_now(cl->loop);
	redisAsyncCommand(ac, on_pong, cl, "ROLE");
	cl->inflight = 0;
	cl->kept = 0;
	cl->reloading = 0;
	cl->waiting = 0;
	cl->moving = 0;
	cl->replicas = rconn_replicas(rc);
	cl->had_replicas = cl->replicas > 0;
	cl->alone_since = 0;
	raise_log_id(cl, ac);
	/* The unconfirmed go first (they are older): a failover may have
	 * lost them; if not, their tokens make them count once. */
	if (cl->unconfirmed) {
		cl->unconfirmed_tail->next = cl->queue;
		if (!cl->queue)
			cl->queue_tail = cl->unconfirmed_tail;
		cl->queue = cl->unconfirmed;
		for (struct record *r = cl->unconfirmed; r; r = r->next) {
			cl->queued++;
			metrics.records_unconfirmed--;
			if (r == cl->unconfirmed_tail)
				break;
		}
		cl->unconfirmed = cl->unconfirmed_tail = NULL;
	}
	for (struct record *r = cl->queue; r; r = r->next)
		send_record(cl, r);
	schedule_conn_up(cl, ac);
}

static void
on_cmd_down(struct rconn *rc, void *arg)
{
	struct changelog *cl = arg;

	(void)rc;
	schedule_conn_down(cl);
	cl->inflight = 0;
	cl->kept = 0;
	cl->reloading = 0;
	cl->lib_loaded = 0;
	cl->ping_sent = 0;
	cl->last_pong = 0;
}

const struct rconn_ops record_conn_ops = {.on_up = on_cmd_up,
                                          .on_down = on_cmd_down};

void
record_tick(struct changelog *cl, uint64_t now)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);

	if (!ac)
		return;
	if (cl->ping_sent && now - cl->ping_sent > LIVENESS_SILENCE_MS) {
		rconn_fail(cl->cmd, "no answer to PING");
		return;
	}
	if (!cl->ping_sent) {
		cl->ping_sent = now;
		redisAsyncCommand(ac, on_pong, cl, "ROLE");
	}
}

/* Who to tell that a PUBLISH was answered. */
struct published {
	void (*done)(void *arg, int published);
	void *arg;
};

/* PUBLISH's answer, or NULL when the connection went away first. */
static void
on_published(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct published *p = privdata;
	redisReply *r = reply;

	(void)ac;
	p->done(p->arg, r && r->type == REDIS_REPLY_INTEGER);
	free(p);
}

int
changelog_publish(struct changelog *cl, const char *channel, const char *text,
                  void (*done)(void *arg, int published), void *arg)
{
	redisAsyncContext *ac = rconn_ctx(cl->cmd);
	struct published *p;

	if (!ac || !(p = malloc(sizeof(*p))))
		return -1;
	p->done = done;
	p->arg = arg;
	if (redisAsyncCommand(ac, on_published, p, "PUBLISH %s %s", channel,
	                      text) != REDIS_OK) {
		free(p);
		return -1;
	}
	return 0;
}

void
record_free_all(struct changelog *cl)
{
	while (cl->queue)
		drop_record(cl, NULL, cl->queue);
	confirm_all(cl);
}
