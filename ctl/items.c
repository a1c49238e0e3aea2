/* items.c: tickerctl publish, correct and kill: an item made from the
 * command line, checked by tickerd's item_parse(), recorded in the log. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_PAGE 256 /* entries read per XREVRANGE when looking back */

/* The payload key each of publish's options sets (enum ctl_field order). */
static const char *const field_keys[CTL_F_COUNT] = {
    [CTL_F_PRIORITY] = "priority", [CTL_F_ID] = "id",
    [CTL_F_URL] = "url",           [CTL_F_EMBARGO] = "embargo",
    [CTL_F_EXPIRES] = "expires",   [CTL_F_LABEL] = "label",
    [CTL_F_LANG] = "lang",         [CTL_F_SOURCE] = "source",
};

int
ctl_validate(const char *topic, const char *payload, size_t len, json_t **item)
{
	struct item_error err;
	struct item it;

	if (item_parse(topic, payload, len, time(NULL), &it, &err)) {
		ctl_say("%s: %s", item_reason_name(err.reason), err.text);
		return CTL_REFUSED;
	}
	if (item)
		*item = json_incref(it.json);
	item_free(&it);
	return CTL_DONE;
}

/*
 * Set key to text in obj.  0, or -1 said on stderr: text that is not UTF-8
 * is refused with the reason item_parse() gives such a payload.
 */
static int
set_text(json_t *obj, const char *key, const char *text)
{
	json_t *v = json_string(text);

	if (!v) {
		ctl_say("%s: the %s is not valid UTF-8",
		        item_reason_name(ITEM_ERR_UTF8), key);
		return -1;
	}
	if (json_object_set_new(obj, key, v)) {
		ctl_say("out of memory");
		return -1;
	}
	return 0;
}

/* The fields the command line gives, set in obj; 0, or -1 said. */
static int
set_fields(json_t *obj, const struct ctl *c)
{
	for (int f = 0; f < CTL_F_COUNT; f++)
		if (c->fields[f] && set_text(obj, field_keys[f], c->fields[f]))
			return -1;
	return 0;
}

/*
 * obj as the payload tickerd is sent: checked by item_parse() on topic,
 * then recorded, its seq printed.  Takes obj.  An exit status.
 */
static int
validate_and_record(struct ctl *c, const char *topic, json_t *obj)
{
	char *payload = json_dumps(obj, JSON_COMPACT);
	int status;

	json_decref(obj);
	if (!payload) {
		ctl_say("out of memory");
		return CTL_REFUSED;
	}
	status = ctl_validate(topic, payload, strlen(payload), NULL);
	if (status == CTL_DONE)
		status = ctl_record(c, topic, payload);
	free(payload);
	return status;
}

int
ctl_publish(struct ctl *c)
{
	json_t *obj = json_object();

	/* The id first, then the headline: the order a reader expects. */
	if (!obj ||
	    (c->fields[CTL_F_ID] && set_text(obj, "id", c->fields[CTL_F_ID])) ||
	    set_text(obj, "headline", c->args[0]) || set_fields(obj, c)) {
		json_decref(obj);
		return CTL_REFUSED;
	}
	return validate_and_record(c, ctl_topic(c), obj);
}

/* The newest log entry of one item, parsed as tickerd reads it. */
struct found {
	json_t *item; /* the normalised item (a kill's too); the caller's */
	enum item_status status;
	char seq[SEQ_STR_LEN];
};

/*
 * 1 if entry (XRANGE's [id, [field, value...]]) is item id on topic, read
 * as tickerd reads it; f filled.
 */
static int
entry_is(const redisReply *entry, const char *topic, const char *id,
         struct found *f)
{
	struct ctl_entry e;
	struct item_error err;
	struct item it;
	int match;

	if (ctl_entry_read(entry, &e) || !e.topic || strcmp(e.topic, topic) ||
	    ctl_entry_parse(&e, &it, &err))
		return 0;
	match = !strcmp(it.id, id);
	if (match) {
		f->item = json_incref(it.json);
		f->status = it.status;
		memcpy(f->seq, e.id, sizeof(f->seq));
	}
	item_free(&it);
	return match;
}

/*
 * Look back through the log, newest first, for item id on topic.  1 with
 * f filled, 0 when the log does not hold it, -1 with *status (said).
 */
static int
log_find(struct ctl *c, const char *topic, const char *id, struct found *f,
         int *status)
{
	char log[CTL_KEY_LEN], end[SEQ_STR_LEN + 1] = "+", count[16];
	const char *argv[] = {"XREVRANGE", log, end, "-", "COUNT", count};
	redisReply *r;
	size_t n;
	int hit = 0;

	ctl_log_key(c, "log", log);
	snprintf(count, sizeof(count), "%d", LOG_PAGE);
	if (!c->rc && (*status = ctl_connect(c)) != CTL_DONE)
		return -1;
	do {
		r = ctl_command(c, "XREVRANGE", 6, argv, status);
		if (!r)
			return -1;
		n = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
		for (size_t i = 0; i < n && !hit; i++)
			hit = entry_is(r->element[i], topic, id, f);
		if (n && r->element[n - 1]->type == REDIS_REPLY_ARRAY &&
		    r->element[n - 1]->elements == 2)
			snprintf(end, sizeof(end), "(%s",
			         r->element[n - 1]->element[0]->str);
		freeReplyObject(r);
	} while (!hit && n == LOG_PAGE);
	return hit;
}

/*
 * The next version of item args[0]: the newest one in the log with the
 * headline args[1] and the fields given, without a version (tickerd makes
 * it the next one).  Refused when the log does not hold the item or holds
 * its kill.
 */
int
ctl_correct(struct ctl *c)
{
	const char *topic = ctl_topic(c), *id = c->args[0];
	struct found f = {0};
	int status = CTL_REFUSED, hit = log_find(c, topic, id, &f, &status);
	json_t *obj;

	if (hit < 0)
		return status;
	if (!hit) {
		ctl_say("no item %s on topic %s in the log (a new item: "
		        "tickerctl publish --id %s --topic %s HEADLINE)",
		        id, topic, id, topic);
		return CTL_REFUSED;
	}
	if (f.status != ITEM_USABLE) {
		ctl_say("item %s on topic %s was killed (seq %s): publish it "
		        "anew with tickerctl publish --id %s",
		        id, topic, f.seq, id);
		json_decref(f.item);
		return CTL_REFUSED;
	}
	obj = json_deep_copy(f.item);
	json_decref(f.item);
	if (!obj)
		return CTL_REFUSED;
	json_object_del(obj, "seq");
	json_object_del(obj, "topic");
	json_object_del(obj, "version");
	if (set_text(obj, "headline", c->args[1]) || set_fields(obj, c)) {
		json_decref(obj);
		return CTL_REFUSED;
	}
	return validate_and_record(c, topic, obj);
}

/*
 * {"id": args[0], "status": "canceled"} on the topic.  Always sent (a
 * screen may show an item the log no longer holds); a note on stderr when
 * the log does not hold it, or holds its kill already.
 */
int
ctl_kill(struct ctl *c)
{
	const char *topic = ctl_topic(c), *id = c->args[0];
	struct found f = {0};
	int status = CTL_REFUSED, hit = log_find(c, topic, id, &f, &status);
	json_t *obj;

	if (hit < 0)
		return status;
	if (!hit)
		ctl_say("note: no item %s on topic %s in the log; killing it "
		        "all the same",
		        id, topic);
	else if (f.status != ITEM_USABLE)
		ctl_say("note: item %s on topic %s was killed already (seq %s)",
		        id, topic, f.seq);
	json_decref(f.item);
	obj = json_object();
	if (!obj || set_text(obj, "id", id) ||
	    set_text(obj, "status", "canceled")) {
		json_decref(obj);
		return CTL_REFUSED;
	}
	return validate_and_record(c, topic, obj);
}
