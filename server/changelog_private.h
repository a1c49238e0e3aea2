/* changelog_private.h: the change log's state, shared by its three files
 * (changelog.c: life and liveness; changelog_record.c: recording on the
 * command connection; changelog_read.c: reading on the reader connection).
 * Nothing outside them includes it. */
#ifndef TICKERD_CHANGELOG_PRIVATE_H
#define TICKERD_CHANGELOG_PRIVATE_H

#include "changelog.h"
#include "liveness.h"
#include "log_check.h"
#include "rconn.h"
#include "redis_where.h"

#include <stdint.h>
#include <uv.h>

#define READ_BLOCK_MS 1000
#define READ_COUNT    1000
#define DEDUPE_TTL_S  10
#define QUEUE_MAX     100000
/* How long a WAIT may hold the command connection (ms), and how many
 * replicas must have a record before it is let go. */
#define WAIT_MS       50
#define WAIT_REPLICAS 1
#define ALONE_MS      60000

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
	unsigned sends;         /* times sent: more than once is a resend */
	unsigned long wait_gen; /* WAITs sent before its FCALL */
	/* changelog_record_as()'s: the key name kept in the entry, the
	 * caller's own token (NULL: instance:token), and whom to tell of
	 * Redis's answer (cleared once told, or by changelog_forget()). */
	char *by, *own_token;
	changelog_done_fn done;
	void *done_arg;
};

/* A tickerd_schedule or tickerd_unschedule owed to Redis: sent again after
 * a reconnect until it is answered. */
struct owed_cmd {
	struct owed_cmd *next, *prev;
	struct changelog *cl;
	int argc;
	char *argv[11];
	size_t argvlen[11];
	int sent; /* on the current connection */
};

/* One per process. */
struct changelog {
	uv_loop_t *loop;
	const struct changelog_ops *ops;
	void *arg;
	unsigned max_len;
	char log_key[96], seen_key[96], epoch_key[96], due_key[96];
	char instance[96]; /* this process: its records' tokens begin with it */

	struct redis_where *where; /* the master, and telling it moved */

	/* The command connection and what it owes. */
	struct rconn *cmd;
	/*
	 * The queue, oldest first, is three runs: kept (answered "function
	 * not found", sent again once the library is loaded again), inflight
	 * (sent, answers awaited in order), then not yet sent.
	 */
	struct record *queue, *queue_tail;
	unsigned queued, inflight, kept;
	/*
	 * Recorded (the master answered) but not yet known to be on a
	 * replica, oldest first: sent again, with their tokens, after a
	 * failover.  Only while the master has replicas.
	 */
	struct record *unconfirmed, *unconfirmed_tail;
	int replicas; /* the master's, as ROLE last said */
	/* This master had replicas: records wait for one even while it has
	 * none (it may have just been promoted in a failover), until it has
	 * had none for ALONE_MS (since alone_since, loop ms). */
	int had_replicas;
	uint64_t alone_since;
	unsigned long wait_gen; /* WAITs sent on this connection */
	int waiting;            /* a WAIT is out */
	int moving;     /* told "not the master": the connection is dropped */
	int lib_loaded; /* FUNCTION LOAD answered OK on this connection */
	/* Records wait: the library was found missing and LOAD is sent, or
	 * LOAD was refused and this connection is about to be dropped. */
	int reloading;
	uint64_t ping_sent; /* loop ms; 0 = none outstanding */
	uint64_t last_pong;
	unsigned long records; /* tokens handed out */
	char epoch[40];
	char my_epoch[40]; /* what this instance offers with SET NX */

	/* The reader connection and where it is. */
	struct rconn *reader;
	int positioned; /* last is meaningful */
	struct seq last;
	unsigned long long last_n; /* the last entry's number; 0: unknown */
	int rebasing; /* the log rolled back: history is being read anew */
	struct seq highest;  /* the highest id ever read: ids stay above it */
	char read_epoch[40]; /* the epoch when the reader last looked */
	struct log_check check;     /* what a reconnected reader finds */
	uint64_t read_sent;         /* loop ms a read went out; 0 = none */
	struct liveness_tick ticks; /* the loop turns: silence can be judged */

	uv_timer_t tick;

	/* What the log does later (changelog_schedule.c). */
	struct owed_cmd *owed;
	unsigned n_owed;
	uint64_t next_due; /* ms since the epoch of the earliest; 0: none */
	int firing, polling;
	uv_timer_t due_timer;
};

/* changelog_record.c: the command connection's hooks, and its share of the
 * once-a-second check (PING; drop it when silent). */
extern const struct rconn_ops record_conn_ops;
void record_tick(struct changelog *cl, uint64_t now);
void record_free_all(struct changelog *cl);

/* changelog_read.c: the reader connection's hooks, and its check. */
extern const struct rconn_ops read_conn_ops;
void read_tick(struct changelog *cl, uint64_t now);

/* changelog_record.c: raise the log's ids past cl->highest, now; free a
 * record no list holds. */
void record_raise(struct changelog *cl);
void free_record(struct record *r);

/* changelog_confirm.c: r was recorded (kept until a replica has it, when
 * the master has replicas); ask WAIT; let them all go; what ROLE said. */
void recorded(struct changelog *cl, redisAsyncContext *ac, struct record *r);
void send_wait(struct changelog *cl, redisAsyncContext *ac);
void confirm_all(struct changelog *cl);
void note_replicas(struct changelog *cl, int replicas);

/* changelog_schedule.c: on the command connection's coming up, its tick,
 * and at the end. */
void schedule_conn_up(struct changelog *cl, redisAsyncContext *ac);
void schedule_conn_down(struct changelog *cl);
void schedule_tick(struct changelog *cl);
void schedule_init(struct changelog *cl);
void schedule_stop(struct changelog *cl);
void schedule_free(struct changelog *cl);

/* changelog_read.c's: what Redis holds for release, at the backlog. */
void schedule_read_held(struct changelog *cl, redisAsyncContext *ac);

#endif
