/* tail.c: tickerctl tail: the change log as it grows, one line per entry,
 * each read by item_parse() as tickerd reads it. */
#include "ctl.h"

#include "isotime.h"
#include "topics.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_MS   "5000" /* XREAD BLOCK: under the command timeout */
#define READ_COUNT "100"
#define SEEN_MAX   4096 /* items remembered to mark their corrections */

/*
 * What one tail has read: where it is in the log, which topics it shows,
 * the items it has shown (topic "\n" id, a ring) so that a later version
 * is marked as a correction.  One per run (static: the ring is 32 KiB).
 */
struct tail {
	char last[SEQ_STR_LEN];
	struct topic_filter filter;
	char *seen[SEEN_MAX];
	size_t n_seen;
};

/* 1 if the tail has shown item id of topic already; remembers it if not. */
static int
seen_before(struct tail *t, const char *topic, const char *id)
{
	size_t n = t->n_seen < SEEN_MAX ? t->n_seen : SEEN_MAX,
	       len = strlen(topic) + strlen(id) + 2;
	char *key = malloc(len);

	if (!key)
		return 0;
	snprintf(key, len, "%s\n%s", topic, id);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t->seen[i], key)) {
			free(key);
			return 1;
		}
	free(t->seen[t->n_seen % SEEN_MAX]);
	t->seen[t->n_seen++ % SEEN_MAX] = key;
	return 0;
}

/* A JSON string member of item, or "" when it has none. */
static const char *
text_of(const json_t *item, const char *key)
{
	const char *s = json_string_value(json_object_get(item, key));

	return s ? s : "";
}

/*
 * Print one parsed entry: "TIME TOPIC PRIORITY HEADLINE", the headline
 * after "[corrected ID]" for a later version, or "TIME TOPIC [killed ID]"
 * ("withheld") for a retraction, whose time is the entry's; "[by NAME]"
 * before the headline (or after the kill) when a publisher key's name is
 * recorded with it (the HTTP publish API).
 */
static void
print_item(struct tail *t, const struct item *it, struct seq seq,
           const char *by)
{
	char when[ISOTIME_LEN], who[80] = "";

	if (by)
		snprintf(who, sizeof(who), "[by %s] ", by);
	if (it->status != ITEM_USABLE) {
		isotime_format((time_t)(seq.ms / 1000), when);
		printf("%s %s [%s %s]%s%s%s\n", when, it->topic,
		       it->status == ITEM_CANCELED ? "killed" : "withheld",
		       it->id, by ? " [by " : "", by ? by : "", by ? "]" : "");
		return;
	}
	if (seen_before(t, it->topic, it->id) ||
	    (it->version_given && it->version > 1))
		printf("%s %s %s [corrected %s] %s%s\n",
		       text_of(it->json, "time"), it->topic,
		       text_of(it->json, "priority"), it->id, who,
		       text_of(it->json, "headline"));
	else
		printf("%s %s %s %s%s\n", text_of(it->json, "time"), it->topic,
		       text_of(it->json, "priority"), who,
		       text_of(it->json, "headline"));
}

/* One XREAD entry [id, [field, value...]]: shown, skipped, or noted. */
static void
show_entry(struct tail *t, const redisReply *entry)
{
	struct ctl_entry e;
	struct item_error err;
	struct item it;

	if (ctl_entry_read(entry, &e))
		return;
	memcpy(t->last, e.id, sizeof(t->last));
	if (e.topic && !topic_filter_match(&t->filter, e.topic))
		return;
	if (ctl_entry_parse(&e, &it, &err)) {
		ctl_say("skipped log entry %s (tickerd rejects it too): %s: %s",
		        e.id, item_reason_name(err.reason), err.text);
		return;
	}
	print_item(t, &it, e.seq, e.by);
	item_free(&it);
	fflush(stdout);
}

/* The log's newest entry id ("0-0" when empty) into t->last. */
static int
start_at_end(struct ctl *c, struct tail *t, const char *log)
{
	const char *argv[] = {"XREVRANGE", log, "+", "-", "COUNT", "1"};
	int status = CTL_DONE;
	redisReply *r = ctl_command(c, "XREVRANGE", 6, argv, &status);

	if (!r)
		return status;
	snprintf(t->last, sizeof(t->last), "0-0");
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
	    r->element[0]->type == REDIS_REPLY_ARRAY &&
	    r->element[0]->elements == 2)
		snprintf(t->last, sizeof(t->last), "%s",
		         r->element[0]->element[0]->str);
	freeReplyObject(r);
	return CTL_DONE;
}

/* Connect again after a loss, once a second, saying so once. */
static void
reconnect(struct ctl *c)
{
	ctl_say("lost Redis at %s; reconnecting", c->redis_url);
	c->quiet = 1;
	do {
		ctl_disconnect(c);
		sleep(1);
	} while (ctl_connect(c) != CTL_DONE);
	c->quiet = 0;
	ctl_say("connected again; reading on");
}

/* Interrupted: every line printed is flushed already. */
static void
on_signal(int sig)
{
	(void)sig;
	_exit(CTL_DONE);
}

/* The tail's starting point and topics from the command line; or usage. */
static int
read_options(const struct ctl *c, struct tail *t)
{
	char why[160];
	struct seq s;

	if (topic_filter_parse(&t->filter, c->topics, why, sizeof(why))) {
		ctl_say("--topics: %s (tickerctl --help)", why);
		return CTL_USAGE;
	}
	if (c->since && seq_parse(c->since, strlen(c->since), &s)) {
		ctl_say("--since \"%s\" is not a seq such as 1750750200000-3 "
		        "(tickerctl --help)",
		        c->since);
		return CTL_USAGE;
	}
	if (c->since)
		seq_format(s, t->last);
	return CTL_DONE;
}

int
ctl_tail(struct ctl *c)
{
	static struct tail t;
	char log[CTL_KEY_LEN];
	const char *argv[] = {"XREAD",  "COUNT",   READ_COUNT, "BLOCK",
	                      BLOCK_MS, "STREAMS", log,        t.last};
	int status = read_options(c, &t);
	redisReply *r;

	ctl_log_key(c, "log", log);
	if (status == CTL_DONE)
		status = ctl_connect(c);
	if (status == CTL_DONE && !c->since)
		status = start_at_end(c, &t, log);
	if (status != CTL_DONE)
		return status;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		r = ctl_command(c, "XREAD", 8, argv, &status);
		if (!r && status == CTL_REFUSED)
			return status;
		if (!r) {
			reconnect(c);
			continue;
		}
		/* [[log, [entry...]]], or nil when the block ran out. */
		if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
		    r->element[0]->elements == 2)
			for (size_t i = 0;
			     i < r->element[0]->element[1]->elements; i++)
				show_entry(
				    &t, r->element[0]->element[1]->element[i]);
		freeReplyObject(r);
	}
}
