/* log.c: the change log's entries as tickerctl reads them back (XRANGE,
 * XREAD), each parsed by item_parse() exactly as tickerd parses it. */
#include "ctl.h"
#include "topics.h"

#include <stdio.h>
#include <string.h>

void
ctl_log_key(const struct ctl *c, const char *suffix, char out[CTL_KEY_LEN])
{
	if (ctl_is_cluster(c))
		snprintf(out, CTL_KEY_LEN, "{%s}:%s", c->prefix, suffix);
	else
		snprintf(out, CTL_KEY_LEN, "%s:%s", c->prefix, suffix);
}

/* The value of a stream entry's field name, or NULL. */
static const redisReply *
entry_field(const redisReply *fields, const char *name)
{
	if (fields->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    !strcmp(fields->element[i]->str, name) &&
		    fields->element[i + 1]->type == REDIS_REPLY_STRING)
			return fields->element[i + 1];
	return NULL;
}

int
ctl_entry_read(const redisReply *e, struct ctl_entry *out)
{
	const redisReply *topic, *payload, *by;

	memset(out, 0, sizeof(*out));
	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    seq_parse(e->element[0]->str, e->element[0]->len, &out->seq))
		return -1;
	seq_format(out->seq, out->id);
	topic = entry_field(e->element[1], "topic");
	payload = entry_field(e->element[1], "payload");
	/* A topic with a NUL in it is no topic (tickerd's check). */
	if (topic && topic->len == strlen(topic->str))
		out->topic = topic->str;
	if (payload) {
		out->payload = payload->str;
		out->payload_len = payload->len;
	}
	/* Who published it through the API (tickerd checked the name). */
	by = entry_field(e->element[1], "by");
	if (by && by->len == strlen(by->str) &&
	    topic_is_valid(by->str, by->len))
		out->by = by->str;
	return 0;
}

int
ctl_entry_parse(const struct ctl_entry *e, struct item *it,
                struct item_error *err)
{
	if (!e->topic || !e->payload) {
		memset(it, 0, sizeof(*it));
		err->reason = ITEM_ERR_TOPIC;
		snprintf(err->text, sizeof(err->text),
		         "the entry has no valid topic or no payload");
		return -1;
	}
	/* A log entry's receive time is its id's (a plain payload's time). */
	return item_parse(e->topic, e->payload, e->payload_len,
	                  (time_t)(e->seq.ms / 1000), it, err);
}
