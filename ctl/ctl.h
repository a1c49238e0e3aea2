/* ctl.h: tickerctl, the publisher's command-line tool: what its files share. */
#ifndef TICKERCTL_CTL_H
#define TICKERCTL_CTL_H

#include "config.h"
#include "item.h"
#include "seq.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <stddef.h>

/* Exit statuses: --help and tickerctl(1) promise these. */
enum ctl_exit {
	CTL_DONE = 0,        /* done */
	CTL_REFUSED = 1,     /* refused by validation or by Redis */
	CTL_USAGE = 2,       /* a bad command line */
	CTL_UNREACHABLE = 3, /* Redis could not be reached, or went away */
};

#define CTL_DEFAULT_REDIS  "redis://127.0.0.1:6379"
#define CTL_DEFAULT_PREFIX "ticker"
#define CTL_DEFAULT_TOPIC  "breaking"
#define CTL_DEFAULT_LISTEN "127.0.0.1:8080"

/* The item fields a command line may give (publish and correct). */
enum ctl_field {
	CTL_F_PRIORITY,
	CTL_F_ID,
	CTL_F_URL,
	CTL_F_EMBARGO,
	CTL_F_EXPIRES,
	CTL_F_LABEL,
	CTL_F_LANG,
	CTL_F_SOURCE,
	CTL_F_COUNT
};

/*
 * One run of tickerctl: the command line as read by main.c, and the Redis
 * connection the commands open (NULL until ctl_connect()).  Lives on
 * main()'s stack for the whole run.
 */
struct ctl {
	const char *redis_url; /* --redis, TICKERD_REDIS, or the default */
	const char *prefix;    /* --prefix, TICKERD_PREFIX, or "ticker" */
	const char *sentinel_password; /* the sentinels' own, or NULL */
	const char *topic;             /* --topic, or NULL */
	const char *topics;            /* tail's --topics, or NULL: all */
	const char *since;             /* tail's --since, or NULL: from now */
	const char *tickerd; /* screens' --tickerd, TICKERD_LISTEN, default */
	const char *fields[CTL_F_COUNT]; /* --priority ... --source, or NULL */
	char **args; /* the command's words after its name */
	int n_args;
	struct redis_target target; /* the URL, read again by ctl_connect() */
	redisContext *rc;
	int quiet; /* say nothing of failed connections (tail reconnecting) */
};

/* Print "tickerctl: <fmt>\n" on stderr. */
void ctl_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The command's topic: --topic, else CTL_DEFAULT_TOPIC. */
const char *ctl_topic(const struct ctl *c);

/*
 * ctl_ask_sentinels() - make t (a sentinel:// URL's) name the master its
 * sentinels, asked in turn, give.  CTL_DONE, or CTL_UNREACHABLE (said).
 */
int ctl_ask_sentinels(const struct ctl *c, struct redis_target *t);

/* ctl_is_cluster() - 1 for a cluster:// URL: keys carry {prefix}. */
int ctl_is_cluster(const struct ctl *c);

/*
 * ctl_connect() - connect to c->redis_url (redis://, unix://, the master
 * of a sentinel:// URL, asked anew each time, or the first cluster://
 * node that answers), AUTH and SELECT as it says.
 * CTL_DONE with c->rc set, or CTL_USAGE (a URL that does not parse),
 * CTL_UNREACHABLE or CTL_REFUSED (AUTH, SELECT), said on stderr.
 */
int ctl_connect(struct ctl *c);

/* ctl_disconnect() - close c->rc if open. */
void ctl_disconnect(struct ctl *c);

/*
 * ctl_command() - run argv on c->rc (following a cluster's MOVED); the
 * reply (the caller frees it with freeReplyObject), or NULL with *status set:
 * CTL_UNREACHABLE when the connection failed (said on stderr), CTL_REFUSED for
 * an error reply (said on stderr, prefixed with what).
 */
redisReply *ctl_command(struct ctl *c, const char *what, int argc,
                        const char **argv, int *status);

/*
 * ctl_record() - FCALL tickerd_record for payload on topic (loading the
 * function library first if Redis has none), print the entry id it
 * returns on stdout.  CTL_DONE, CTL_REFUSED or CTL_UNREACHABLE.
 */
int ctl_record(struct ctl *c, const char *topic, const char *payload);

/*
 * ctl_validate() - item_parse() payload on topic as tickerd would when it
 * hears it.  CTL_DONE, with the normalised item in *item if item is not
 * NULL (a new reference: the caller's); or CTL_REFUSED with
 * "<reason>: <text>" said on stderr.
 */
int ctl_validate(const char *topic, const char *payload, size_t len,
                 json_t **item);

#define CTL_KEY_LEN 80 /* a prefix (at most 64 bytes), {} and ":seen" */

/* ctl_log_key() - "<prefix>:<suffix>" (log, seen) into out; on a Redis
 * Cluster "{<prefix>}:<suffix>", as tickerd names them there. */
void ctl_log_key(const struct ctl *c, const char *suffix,
                 char out[CTL_KEY_LEN]);

/* One change-log entry, as XRANGE and XREAD return it (borrowed from the
 * reply: valid while it is). */
struct ctl_entry {
	struct seq seq;
	char id[SEQ_STR_LEN]; /* seq as text */
	const char *topic;    /* NULL when missing or not text */
	const char *payload;  /* NULL when missing */
	size_t payload_len;
	const char *by; /* the publisher key's name (field "by"), or NULL */
};

/* ctl_entry_read() - read e ([id, [field, value...]]); 0, or -1 if it is
 * not a stream entry at all. */
int ctl_entry_read(const redisReply *e, struct ctl_entry *out);

/*
 * ctl_entry_parse() - item_parse() the entry as tickerd does when it reads
 * it (a plain payload's time is the entry's).  0 with *it filled (the
 * caller's: item_free()), or -1 with *err.
 */
int ctl_entry_parse(const struct ctl_entry *e, struct item *it,
                    struct item_error *err);

/* The commands: each returns an exit status (enum ctl_exit). */
int ctl_publish(struct ctl *c);
int ctl_correct(struct ctl *c);
int ctl_kill(struct ctl *c);
int ctl_tail(struct ctl *c);
int ctl_check(struct ctl *c);
/* tickerd's GET /screens as a table: CTL_DONE, CTL_REFUSED when a screen
 * is stale, CTL_UNREACHABLE when tickerd could not be asked. */
int ctl_screens(struct ctl *c);

#endif
