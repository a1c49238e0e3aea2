/* ingest.c: check -> record in the log; read back -> decide, encode, fan out.
 */
#include "ingest.h"

#include "changelog.h"
#include "config.h"
#include "dead_air.h"
#include "fanout.h"
#include "held.h"
#include "history.h"
#include "item.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "topics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Log and count a payload that goes nowhere; where is quoted safely. */
static void
reject(const char *where, size_t where_len, size_t payload_len,
       const struct item_error *err)
{
	char safe[101];
	size_t n = where_len > 100 ? 100 : where_len;

	for (size_t i = 0; i < n; i++)
		safe[i] = (unsigned char)where[i] < 0x20 || where[i] == 0x7f
		              ? '?'
		              : where[i];
	safe[n] = '\0';
	metrics_reject(err->reason);
	log_warn("rejected %zu-byte payload on %s: %s: %s", payload_len, safe,
	         item_reason_name(err->reason), err->text);
}

void
ingest_payload(void *arg, const char *channel, size_t channel_len,
               const char *payload, size_t payload_len)
{
	struct ingest *in = arg;
	size_t plen = strlen(in->prefix);
	char topic[TOPIC_MAX_LEN + 1];
	struct item_error err;
	struct item it;
	enum hist_result r;
	long version;

	metrics.received++;
	/* The topic's real bytes, before anything is copied: a NUL is in it. */
	if (channel_len <= plen + 1 || memcmp(channel, in->prefix, plen) ||
	    channel[plen] != ':' ||
	    !topic_is_valid(channel + plen + 1, channel_len - plen - 1)) {
		err.reason = ITEM_ERR_TOPIC;
		snprintf(err.text, sizeof(err.text),
		         "channel must be %s:<topic>, topic 1-%d of "
		         "A-Z a-z 0-9 _ . -",
		         in->prefix, TOPIC_MAX_LEN);
		reject(channel, channel_len, payload_len, &err);
		return;
	}
	memcpy(topic, channel + plen + 1, channel_len - plen - 1);
	topic[channel_len - plen - 1] = '\0';

	if (item_parse(topic, payload, payload_len, in->now(), &it, &err)) {
		reject(channel, channel_len, payload_len, &err);
		return;
	}
	/* Keep what is surely a repeat out of the log (the log decides). */
	r = it.status == ITEM_USABLE
	        ? history_check(in->history, it.topic, it.id, it.id_derived,
	                        it.version, it.version_given, &version)
	        : HIST_NEW;
	item_free(&it);
	if (r == HIST_DUPLICATE || r == HIST_STALE) {
		metrics.duplicates++;
		log_info("ignored a %s on %s",
		         r == HIST_STALE ? "stale version" : "repeat", channel);
		return;
	}
	changelog_record(in->log, topic, payload, payload_len);
}

/* A kill or withhold: drop it from history, tell every screen. */
static void
retract(struct ingest *in, const struct item *it, struct seq seq)
{
	struct msg *m;

	history_remove(in->history, it->topic, it->id, seq);
	if (in->quiet)
		return;
	m = msg_new_retract(it->id, it->topic, seq);
	if (!m) {
		log_err("out of memory: retraction of %s lost", it->id);
		return;
	}
	fan_publish(in->fan, m);
	msg_unref(m);
	metrics.retracted++;
	log_info("retracted %s/%s", it->topic, it->id);
}

/* The kill the log appends at an item's expiry. */
static char *
expiry_kill(const char *id)
{
	json_t *o = json_pack("{s:s,s:s}", "id", id, "status", "canceled");
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	json_decref(o);
	return text;
}

/* When it, shown by entry e, leaves the screens: its own expires, else its
 * topic's --topic-ttl after its time; 0: never. */
static time_t
expiry_of(const struct ingest *in, const struct item *it)
{
	uint64_t ttl;

	if (it->expires)
		return it->expires;
	ttl = in->topic_ttl ? cfg_topic_span(in->topic_ttl, it->topic) : 0;
	return ttl ? it->time + (time_t)(ttl / 1000) : 0;
}

/* Have the log retract it, shown by e, at its expiry (if it has one). */
static void
schedule_expiry(struct ingest *in, const struct item *it,
                const struct log_entry *e)
{
	time_t when = expiry_of(in, it);
	char *kill;

	if (!when)
		return;
	kill = expiry_kill(it->id);
	if (!kill) {
		log_err("out of memory: the expiry of %s/%s is lost", it->topic,
		        it->id);
		return;
	}
	changelog_schedule(in->log, LOG_EXPIRE, it->topic, it->id,
	                   (uint64_t)when * 1000, e->seq, kill, strlen(kill));
	free(kill);
}

/*
 * An embargoed item, or a correction of one still held: kept from the
 * screens, and the log asked to append it at the release.  1 if e was held
 * so; 0 for one to show.
 */
static int
hold(struct ingest *in, const struct item *it, const struct log_entry *e)
{
	uint64_t until = it->embargo ? (uint64_t)it->embargo * 1000
	                             : held_until(in->held, it->topic, it->id);

	if (e->fired) {
		held_remove(in->held, it->topic, it->id); /* released now */
		metrics.held = held_count(in->held);
		return 0;
	}
	if (!until)
		return 0;
	if (held_put(in->held, it->topic, it->id, until)) {
		log_err("out of memory: held item %s/%s lost", it->topic,
		        it->id);
		return 1;
	}
	changelog_schedule(in->log, LOG_RELEASE, it->topic, it->id, until,
	                   e->seq, e->payload, e->payload_len);
	metrics.held = held_count(in->held);
	log_info("%s/%s held until %llu ms", it->topic, it->id,
	         (unsigned long long)until);
	return 1;
}

/*
 * A kill: of an item still held, its release is cancelled (no screen has
 * it); else it leaves the screens, and its expiry is cancelled.
 */
static void
kill_item(struct ingest *in, const struct item *it, const struct log_entry *e)
{
	if (!e->fired && held_remove(in->held, it->topic, it->id)) {
		changelog_unschedule(in->log, LOG_RELEASE, it->topic, it->id,
		                     e->seq);
		metrics.held = held_count(in->held);
		log_info("held %s/%s killed before its release", it->topic,
		         it->id);
		return;
	}
	if (!e->fired)
		changelog_unschedule(in->log, LOG_EXPIRE, it->topic, it->id,
		                     e->seq);
	retract(in, it, e->seq);
}

const char *
ingest_entry(void *arg, const struct log_entry *e)
{
	struct ingest *in = arg;
	char topic[TOPIC_MAX_LEN + 1], seqbuf[SEQ_STR_LEN];
	const char *topic_in = e->topic, *payload = e->payload;
	size_t topic_len = e->topic_len, payload_len = e->payload_len;
	struct seq seq = e->seq;
	struct item_error err;
	struct item it;
	enum hist_result r;
	struct msg *m;
	long version;

	seq_format(seq, seqbuf);
	/*
	 * Entries written by FCALL or XADD were never checked: check them
	 * here, the topic's real bytes first (a NUL would end a copy early).
	 */
	if (!topic_is_valid(topic_in, topic_len)) {
		err.reason = ITEM_ERR_TOPIC;
		snprintf(err.text, sizeof(err.text),
		         "topic (%zu bytes) must be 1-%d of A-Z a-z 0-9 _ . -",
		         topic_len, TOPIC_MAX_LEN);
		reject(seqbuf, strlen(seqbuf), payload_len, &err);
		return NULL;
	}
	memcpy(topic, topic_in, topic_len);
	topic[topic_len] = '\0';
	if (item_parse(topic, payload, payload_len, (time_t)(seq.ms / 1000),
	               &it, &err)) {
		reject(seqbuf, strlen(seqbuf), payload_len, &err);
		return NULL;
	}
	if (it.status != ITEM_USABLE) {
		kill_item(in, &it, e);
		item_free(&it);
		return NULL;
	}
	if (hold(in, &it, e)) {
		item_free(&it);
		return NULL;
	}

	r = history_check(in->history, it.topic, it.id, it.id_derived,
	                  it.version, it.version_given, &version);
	if (r == HIST_DUPLICATE || r == HIST_STALE) {
		metrics.duplicates++;
		log_info("log entry %s: %s %s/%s v%ld skipped", seqbuf,
		         r == HIST_STALE ? "stale version of" : "repeat of",
		         it.topic, it.id, it.version);
		item_free(&it);
		return r == HIST_STALE ? "stale" : "duplicate";
	}
	m = NULL;
	if ((version != it.version && item_set_version(&it, version)) ||
	    item_set_seq(&it, seqbuf) || !(m = msg_new_item(&it, seq)) ||
	    history_put(in->history, it.topic, it.id, version, m)) {
		log_err("out of memory: item %s/%s lost", it.topic, it.id);
		msg_unref(m);
		item_free(&it);
		return NULL;
	}
	/* Who published it (the API's key), for the desk only. */
	if (e->by)
		m->by = strndup(e->by, e->by_len);
	if (!in->quiet) {
		fan_publish(in->fan, m);
		metrics.published++;
	}
	msg_unref(m);
	log_info("%s %s/%s v%ld seq %s", r == HIST_UPDATED ? "updated" : "new",
	         it.topic, it.id, version, seqbuf);
	if (in->dead_air)
		dead_air_heard(in->dead_air, it.topic, seq.ms);
	schedule_expiry(in, &it, e);
	item_free(&it);
	return NULL;
}

/* A snapshot marked resync for one audience's topics, as it stands now. */
static struct msg *
resync_snapshot(void *arg, const struct topic_filter *filter)
{
	struct ingest *in = arg;
	struct msg **items, *m = NULL;
	long n = history_collect(in->history, filter, &items);

	if (n >= 0) {
		m = msg_new_snapshot(items, (size_t)n,
		                     fan_resync_point(in->fan), 1);
		free(items);
	}
	return m;
}

void
ingest_gap(void *arg, unsigned long long missing)
{
	struct ingest *in = arg;

	metrics.log_gaps++;
	metrics.lost_entries += missing;
	fan_resync(in->fan, NULL, resync_snapshot, in);
}

void
ingest_held(void *arg, const char *topic, const char *id, uint64_t ms)
{
	struct ingest *in = arg;

	if (held_put(in->held, topic, id, ms))
		log_err("out of memory: held item %s/%s lost", topic, id);
	metrics.held = held_count(in->held);
}

void
ingest_rebase(void *arg, int done, const struct seq *last)
{
	struct ingest *in = arg;

	in->quiet = !done;
	if (!done) {
		history_clear(in->history);
		held_clear(in->held);
		return;
	}
	fan_resync(in->fan, last, resync_snapshot, in);
}
