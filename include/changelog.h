/* changelog.h: the durable change log, a capped Redis Stream. */
#ifndef TICKERD_CHANGELOG_H
#define TICKERD_CHANGELOG_H

#include "config.h"
#include "seq.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct subscriber;
struct redis_where;

/* One entry of the log as read (the bytes are hiredis's, for the call). */
struct log_entry {
	struct seq seq;
	const char *topic;
	size_t topic_len;
	const char *payload;
	size_t payload_len;
	/* Appended by tickerd_fire: a scheduled release or expiry, applied
	 * as it stands (an embargo in it is over). */
	int fired;
	/* The publisher key's name an HTTP publish came with (field "by";
	 * NULL when the entry has none: PUBLISH, redis-cli). */
	const char *by;
	size_t by_len;
};

/* Called for each entry read from the log, in log order. */
typedef void (*log_entry_fn)(void *arg, const struct log_entry *e);

/*
 * Called before the log is read from its start (at start, after a
 * rollback) for each item Redis holds for release (topic, id, when, in ms
 * since the epoch), whether or not the entry that held it is still in the
 * log.
 */
typedef void (*log_held_fn)(void *arg, const char *topic, const char *id,
                            uint64_t ms);

/*
 * Called when entries were trimmed off the log before this instance could
 * read them (a burst longer than the log): missing is how many.
 */
typedef void (*log_gap_fn)(void *arg, unsigned long long missing);

struct changelog;

/*
 * Called when the log was found to have rolled back (a failover lost
 * entries this instance had read): with done 0 before the log is read anew
 * from its start (forget what was read: the entries come again), with done
 * 1 once it has been, last its last entry's id (NULL: it is empty).
 */
typedef void (*log_rebase_fn)(void *arg, int done, const struct seq *last);

/* What the log hands its reader: each entry, in order, gaps, rollbacks. */
struct changelog_ops {
	log_entry_fn entry;
	log_gap_fn gap;
	log_rebase_fn rebase;
	log_held_fn held;
};

/* What the log does later on its own (tickerd_schedule). */
enum log_action {
	LOG_RELEASE, /* append an embargoed item, at its embargo */
	LOG_EXPIRE,  /* append an item's kill, at its expiry */
};

/*
 * changelog_schedule() - have the log append payload (on topic) at ms
 * (since the epoch) as action a for
 * item id, as the entry at decided.  Every instance reading that entry
 * asks the same: the first one's request counts, replays change nothing.
 * Sent again after a reconnect until Redis answers.  The entry appended
 * is read back with fired set, by every instance, once.
 */
void changelog_schedule(struct changelog *cl, enum log_action a,
                        const char *topic, const char *id, uint64_t ms,
                        struct seq at, const char *payload, size_t len);

/* changelog_unschedule() - cancel action a for item id (a kill), as the
 * entry at decided. */
void changelog_unschedule(struct changelog *cl, enum log_action a,
                          const char *topic, const char *id, struct seq at);

/*
 * changelog_new() - the log <prefix>:log on where's master, kept to max_len
 * entries.  Two connections of its own: one for commands (recording, the
 * epoch, a PING every second) and one that reads the log: at first the
 * last max_len entries (so history survives a restart), then every new
 * entry as it lands, calling ops->entry(arg, ...) for each (ops->gap when
 * entries were lost before they could be read).  Both reconnect with
 * backoff; the reader resumes from the last entry it read.  instance names
 * this process (its records' resend tokens begin with it).  NULL on
 * ENOMEM.
 */
struct changelog *changelog_new(uv_loop_t *loop, struct redis_where *where,
                                const char *prefix, unsigned max_len,
                                const char *instance,
                                const struct changelog_ops *ops, void *arg);

/*
 * changelog_publish() - PUBLISH text on channel on the command connection
 * (the subscriber's probe), then call done(arg, 1) once Redis answered, or
 * done(arg, 0) if the connection went away first.  0 when sent, -1 while
 * it is not connected (done is not called).
 */
int changelog_publish(struct changelog *cl, const char *channel,
                      const char *text, void (*done)(void *arg, int published),
                      void *arg);

void changelog_start(struct changelog *cl);

/*
 * changelog_record() - record one payload published on topic, once (the
 * Redis function tickerd_record dedupes across instances).  It is queued
 * and sent again after a reconnect until Redis acknowledges it; refused
 * because the function library is gone, it waits while the library is
 * loaded again and is then sent again; refused by a node that is not the
 * master (READONLY, MOVED...), it waits while the master is found.  While
 * the master has replicas it is kept after that until WAIT says one has
 * it, and sent again (same token: recorded once) after a failover.  A
 * payload Redis refuses for any other reason is dropped, counted in
 * record_errors and logged.
 */
void changelog_record(struct changelog *cl, const char *topic,
                      const char *payload, size_t len);

/*
 * Told of Redis's answer to a changelog_record_as(): id is the entry's id
 * (the seq) once FCALL answered, or NULL with why (Redis's error, or
 * "dropped") when it never will be recorded.  Called once, at most.
 */
typedef void (*changelog_done_fn)(void *arg, const char *id, const char *why);

struct record;

/*
 * changelog_record_as() - changelog_record() for an HTTP publish: by (the
 * publisher key's name) is kept in the entry; token (NULL: one of this
 * process's own), 1-128 printable bytes, makes a retry with the same one
 * record once and answer the first entry's id (for a day); done(arg, ...)
 * is called when FCALL answers.  Returns the record, for
 * changelog_forget(), or NULL when it could not be queued (done is not
 * called).
 */
struct record *changelog_record_as(struct changelog *cl, const char *topic,
                                   const char *payload, size_t len,
                                   const char *by, const char *token,
                                   changelog_done_fn done, void *arg);

/* changelog_forget() - whoever asked no longer waits: done is not called
 * (the record is still sent). */
void changelog_forget(struct record *r);

/*
 * changelog_healthy() - 1 while both connections answer in time and Redis
 * holds the function library (0 from an answer saying it is gone until it
 * is loaded again).
 */
int changelog_healthy(const struct changelog *cl);

/*
 * changelog_trouble() - why changelog_healthy() is 0, as a static string:
 * "redis" (the command or reader connection is down, or a PING has gone
 * unanswered for LIVENESS_SILENCE_MS), "library" (Redis answered that the
 * function library is gone: records wait until it is loaded again) or
 * "log" (the reader has not yet read its place in the log: the backlog
 * at start).  NULL while healthy.
 */
const char *changelog_trouble(const struct changelog *cl);

/* changelog_epoch() - the Redis dataset's epoch id, or NULL if unknown. */
const char *changelog_epoch(const struct changelog *cl);

/* changelog_stop() / changelog_free() - as rconn_stop() / rconn_free(). */
void changelog_stop(struct changelog *cl);
void changelog_free(struct changelog *cl);

/* The Lua library (deploy/redis/tickerd.lua), compiled in. */
extern const char tickerd_lua[];

#endif
