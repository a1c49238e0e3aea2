/* changelog_confirm.c: records the master took, kept until a replica has
 * them (WAIT), so that a failover that loses them does not lose them for
 * good: they are sent again to the new master. */
#include "changelog_private.h"

#include "log.h"
#include "metrics.h"

#include <hiredis/hiredis.h>
#include <stdlib.h>

/* Let the oldest unconfirmed record go. */
static void
confirm_oldest(struct changelog *cl)
{
	struct record *r = cl->unconfirmed;

	cl->unconfirmed = r->next;
	if (!cl->unconfirmed)
		cl->unconfirmed_tail = NULL;
	metrics.records_unconfirmed--;
	free_record(r);
}

/*
 * r was recorded: with replicas, keep it until WAIT says one has it (and
 * ask, unless a WAIT is out); without, it is done.
 */
void
recorded(struct changelog *cl, redisAsyncContext *ac, struct record *r)
{
	if (!cl->had_replicas) {
		free_record(r);
		return;
	}
	r->next = NULL;
	if (cl->unconfirmed_tail)
		cl->unconfirmed_tail->next = r;
	else
		cl->unconfirmed = r;
	cl->unconfirmed_tail = r;
	if (++metrics.records_unconfirmed > QUEUE_MAX) {
		log_warn("%u records wait for a replica to confirm them: "
		         "letting the oldest go",
		         QUEUE_MAX);
		confirm_oldest(cl);
	}
	if (!cl->waiting)
		send_wait(cl, ac);
}

/* WAIT's answer: the records sent before it are on n replicas. */
static void
on_waited(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct changelog *cl = privdata;
	redisReply *r = reply;

	if (!r || rconn_ctx(cl->cmd) != ac)
		return;
	cl->waiting = 0;
	if (r->type != REDIS_REPLY_INTEGER || r->integer < WAIT_REPLICAS)
		return; /* asked again by the next record, or the tick */
	while (cl->unconfirmed && cl->unconfirmed->wait_gen < cl->wait_gen)
		confirm_oldest(cl);
	if (cl->unconfirmed) /* recorded while this WAIT was out */
		send_wait(cl, ac);
}

/* Ask whether a replica has every record sent so far (bounded wait). */
void
send_wait(struct changelog *cl, redisAsyncContext *ac)
{
	cl->waiting = 1;
	cl->wait_gen++;
	redisAsyncCommand(ac, on_waited, cl, "WAIT %d %d", WAIT_REPLICAS,
	                  WAIT_MS);
}

/*
 * The master has had no replica for ALONE_MS (or never had one): what
 * waits for one is as safe as it can be.
 */
void
confirm_all(struct changelog *cl)
{
	while (cl->unconfirmed)
		confirm_oldest(cl);
}

/*
 * ROLE says the master has replicas now.  Losing them all is what a
 * failover looks like from the old master (its replica was promoted):
 * records keep waiting, to be sent again to the new master, unless it
 * stays so for ALONE_MS (the replica is gone for good).
 */
void
note_replicas(struct changelog *cl, int replicas)
{
	uint64_t now = uv_now(cl->loop);

	cl->replicas = replicas;
	if (replicas) {
		cl->had_replicas = 1;
		cl->alone_since = 0;
		return;
	}
	if (!cl->had_replicas)
		return;
	if (!cl->alone_since) {
		cl->alone_since = now;
		return;
	}
	if (now - cl->alone_since < ALONE_MS)
		return;
	log_notice("Redis at %s has had no replica for %d s: records no "
	           "longer wait for one",
	           rconn_addr(cl->cmd), ALONE_MS / 1000);
	cl->had_replicas = 0;
	cl->alone_since = 0;
}
