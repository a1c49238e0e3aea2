/* message.c: encoding the server -> client wire messages. */
#include "message.h"

#include "isotime.h"
#include "item.h"
#include "topics.h"
#include "version.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * msg_frame_header() - write the header of an unmasked, final text frame of
 * len payload bytes just before payload (there is MSG_HEADROOM room), RSV1
 * set when compressed; returns where it starts.
 */
unsigned char *
msg_frame_header(unsigned char *payload, size_t len, int compressed)
{
	unsigned char *h;

	if (len < 126) {
		h = payload - 2;
		h[1] = (unsigned char)len;
	} else if (len < 65536) {
		h = payload - 4;
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
	} else {
		h = payload - 10;
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] =
			    (unsigned char)((uint64_t)len >> (56 - 8 * i));
	}
	h[0] = compressed ? 0xc1 : 0x81; /* FIN, (RSV1,) text */
	return h;
}

/*
 * Allocate a message whose frame is prefix + body + suffix, body being
 * body_len bytes still to be written by the caller at the returned offset.
 */
static struct msg *
msg_alloc(const char *type, const char *topic, const char *prefix,
          size_t body_len, const char *suffix, size_t *body_off)
{
	size_t pre = strlen(prefix), suf = strlen(suffix);
	struct msg *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->refs = 1;
	m->type = type;
	m->len = pre + body_len + suf;
	m->buf = malloc(MSG_HEADROOM + m->len + 1);
	m->topic = topic ? strdup(topic) : NULL;
	if (!m->buf || (topic && !m->topic)) {
		free(m->buf);
		free(m->topic);
		free(m);
		return NULL;
	}
	memcpy(msg_payload(m), prefix, pre);
	memcpy(msg_payload(m) + pre + body_len, suffix, suf);
	msg_payload(m)[m->len] = '\0';
	m->frame = msg_frame_header(msg_payload(m), m->len, 0);
	m->frame_len = (size_t)(msg_payload(m) + m->len - m->frame);
	*body_off = pre;
	return m;
}

/* Encode a JSON value straight into a new message between prefix/suffix. */
static struct msg *
msg_from_json(const char *type, const char *topic, const char *prefix,
              json_t *v, const char *suffix)
{
	size_t need = json_dumpb(v, NULL, 0, JSON_COMPACT), off;
	struct msg *m;

	if (!need)
		return NULL;
	m = msg_alloc(type, topic, prefix, need, suffix, &off);
	if (!m)
		return NULL;
	json_dumpb(v, (char *)msg_payload(m) + off, need, JSON_COMPACT);
	m->item_off = off;
	m->item_len = need;
	return m;
}

struct msg *
msg_new_item(const struct item *it, struct seq seq)
{
	struct msg *m = msg_from_json(
	    "item", it->topic, "{\"type\":\"item\",\"item\":", it->json, "}");

	if (m) {
		m->seq = seq;
		m->has_seq = 1;
	}
	return m;
}

struct msg *
msg_new_retract(const char *id, const char *topic, struct seq seq)
{
	json_t *o = json_object();
	char seqbuf[SEQ_STR_LEN];
	struct msg *m;

	seq_format(seq, seqbuf);
	json_object_set_new(o, "type", json_string("retract"));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "topic", json_string(topic));
	json_object_set_new(o, "seq", json_string(seqbuf));
	m = msg_from_json("retract", topic, "", o, "");
	json_decref(o);
	if (m) {
		m->item_off = m->item_len = 0;
		m->seq = seq;
		m->has_seq = 1;
	}
	return m;
}

int
msg_feed_fields(json_t *o, const struct msg_feed *feed)
{
	char since[ISOTIME_LEN];

	isotime_format(feed->since, since);
	if (json_object_set_new(
	        o, "state", json_string(feed->degraded ? "degraded" : "ok")) ||
	    json_object_set_new(o, "since", json_string(since)))
		return -1;
	if (feed->degraded && feed->reason &&
	    json_object_set_new(o, "reason", json_string(feed->reason)))
		return -1;
	return 0;
}

struct msg *
msg_new_json(const char *type, json_t *o)
{
	struct msg *m = msg_from_json(type, NULL, "", o, "");

	if (m)
		m->item_off = m->item_len = 0;
	return m;
}

struct msg *
msg_new_hello(const struct topic_filter *f, time_t now, const char *epoch,
              const struct msg_feed *feed)
{
	return msg_new_hello_access(f, now, epoch, feed, NULL, NULL);
}

struct msg *
msg_new_hello_access(const struct topic_filter *f, time_t now,
                     const char *epoch, const struct msg_feed *feed,
                     int (*access)(json_t *o, const void *arg), const void *arg)
{
	json_t *o = json_object(), *topics = json_array(), *fo;
	char when[ISOTIME_LEN];
	struct msg *m;

	for (int i = 0; i < f->count; i++)
		json_array_append_new(topics, json_string(f->names[i]));
	isotime_format(now, when);
	json_object_set_new(o, "type", json_string("hello"));
	json_object_set_new(o, "server", json_string(TICKERD_SERVER));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "topics", topics);
	json_object_set_new(o, "epoch",
	                    epoch ? json_string(epoch) : json_null());
	if (feed && (fo = json_object())) {
		msg_feed_fields(fo, feed);
		json_object_set_new(o, "feed", fo);
	}
	if (access && access(o, arg)) {
		json_decref(o);
		return NULL;
	}
	m = msg_from_json("hello", NULL, "", o, "");
	json_decref(o);
	return m;
}

struct msg *
msg_new_feed(const struct msg_feed *feed)
{
	json_t *o = json_object();
	struct msg *m = NULL;

	/* Whole or not at all: a screen acts on it. */
	if (!json_object_set_new(o, "type", json_string("feed")) &&
	    !msg_feed_fields(o, feed))
		m = msg_from_json("feed", NULL, "", o, "");
	json_decref(o);
	if (m)
		m->item_off = m->item_len = 0;
	return m;
}

struct msg *
msg_new_snapshot(struct msg *const *items, size_t n, const struct seq *at,
                 int resync)
{
	const char *suffix =
	    resync ? "],\"resync\":true}" : "],\"resync\":false}";
	char prefix[96], seqbuf[SEQ_STR_LEN];
	size_t body = n ? n - 1 : 0, off;
	struct msg *m;
	unsigned char *p;

	if (at) {
		seq_format(*at, seqbuf);
		snprintf(prefix, sizeof(prefix),
		         "{\"type\":\"snapshot\",\"seq\":\"%s\",\"items\":[",
		         seqbuf);
	} else {
		snprintf(prefix, sizeof(prefix),
		         "{\"type\":\"snapshot\",\"seq\":null,\"items\":[");
	}
	for (size_t i = 0; i < n; i++)
		body += items[i]->item_len;
	m = msg_alloc("snapshot", NULL, prefix, body, suffix, &off);
	if (!m)
		return NULL;
	m->resync = resync;
	if (at) {
		m->seq = *at;
		m->has_seq = 1;
	}
	p = msg_payload(m) + off;
	for (size_t i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, msg_payload(items[i]) + items[i]->item_off,
		       items[i]->item_len);
		p += items[i]->item_len;
	}
	return m;
}

unsigned char *
msg_sse(struct msg *m, size_t *len)
{
	char head[128], seqbuf[SEQ_STR_LEN];
	int hl;

	if (!m->sse) {
		if (m->has_seq) {
			seq_format(m->seq, seqbuf);
			hl = snprintf(head, sizeof(head),
			              "id: %s\nevent: %s\ndata: ", seqbuf,
			              m->type);
		} else {
			hl = snprintf(head, sizeof(head),
			              "event: %s\ndata: ", m->type);
		}
		/* The JSON has no raw newlines, so it is one data: line. */
		m->sse_len = (size_t)hl + m->len + 2;
		m->sse = malloc(m->sse_len);
		if (!m->sse)
			return NULL;
		memcpy(m->sse, head, (size_t)hl);
		memcpy(m->sse + hl, msg_payload(m), m->len);
		memcpy(m->sse + hl + m->len, "\n\n", 2);
	}
	*len = m->sse_len;
	return m->sse;
}

struct msg *
msg_ref(struct msg *m)
{
	m->refs++;
	return m;
}

void
msg_unref(struct msg *m)
{
	if (!m || --m->refs)
		return;
	free(m->buf);
	free(m->sse);
	free(m->atom);
	free(m->topic);
	while (m->z) {
		struct msg_z *z = m->z;

		m->z = z->next;
		free(z);
	}
	free(m->by);
	free(m);
}
