/* ingest.c: check -> record in the log; read back -> decide, encode, fan out.
 */
#include "ingest.h"

#include "changelog.h"
#include "fanout.h"
#include "history.h"
#include "item.h"
#include "log.h"
#include "message.h"
#include "metrics.h"
#include "topics.h"

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

	history_remove(in->history, it->topic, it->id);
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

void
ingest_entry(void *arg, struct seq seq, const char *topic_in, size_t topic_len,
             const char *payload, size_t payload_len)
{
	struct ingest *in = arg;
	char topic[TOPIC_MAX_LEN + 1], seqbuf[SEQ_STR_LEN];
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
		return;
	}
	memcpy(topic, topic_in, topic_len);
	topic[topic_len] = '\0';
	if (item_parse(topic, payload, payload_len, (time_t)(seq.ms / 1000),
	               &it, &err)) {
		reject(seqbuf, strlen(seqbuf), payload_len, &err);
		return;
	}
	if (it.status != ITEM_USABLE) {
		retract(in, &it, seq);
		item_free(&it);
		return;
	}

	r = history_check(in->history, it.topic, it.id, it.id_derived,
	                  it.version, it.version_given, &version);
	if (r == HIST_DUPLICATE || r == HIST_STALE) {
		metrics.duplicates++;
		log_info("log entry %s: %s %s/%s v%ld skipped", seqbuf,
		         r == HIST_STALE ? "stale version of" : "repeat of",
		         it.topic, it.id, it.version);
		item_free(&it);
		return;
	}
	m = NULL;
	if ((version != it.version && item_set_version(&it, version)) ||
	    item_set_seq(&it, seqbuf) || !(m = msg_new_item(&it, seq)) ||
	    history_put(in->history, it.topic, it.id, version, m)) {
		log_err("out of memory: item %s/%s lost", it.topic, it.id);
		msg_unref(m);
		item_free(&it);
		return;
	}
	if (!in->quiet) {
		fan_publish(in->fan, m);
		metrics.published++;
	}
	msg_unref(m);
	log_info("%s %s/%s v%ld seq %s", r == HIST_UPDATED ? "updated" : "new",
	         it.topic, it.id, version, seqbuf);
	item_free(&it);
}

/* A snapshot marked resync for one audience's topics, as it stands now. */
static struct msg *
resync_snapshot(void *arg, const struct topic_filter *filter)
{
	struct ingest *in = arg;
	struct msg **items, *newest = fan_newest(in->fan), *m = NULL;
	long n = history_collect(in->history, filter, &items);

	if (n >= 0) {
		m = msg_new_snapshot(items, (size_t)n,
		                     newest ? &newest->seq : NULL, 1);
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
	fan_resync(in->fan, resync_snapshot, in);
}

void
ingest_rebase(void *arg, int done)
{
	struct ingest *in = arg;

	in->quiet = !done;
	if (!done) {
		history_clear(in->history);
		return;
	}
	fan_resync(in->fan, resync_snapshot, in);
}
