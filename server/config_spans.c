/* config_spans.c: spans of time (--stale-after) and TOPIC=DURATION lists
 * (--topic-ttl): read and shown. */
#include "config_kinds.h"

#include "duration.h"
#include "topics.h"

#include <stdio.h>
#include <string.h>

#define SPAN_MAX_MS (366ULL * 86400000) /* a year */

static struct cfg_topic_spans *
spans_of(const struct cfg *c, const struct cfg_setting *s)
{
	return (struct cfg_topic_spans *)((char *)c + s->offset);
}

/* Add "topic=30m" (len bytes at p); a topic given again takes the new one. */
static int
add_span(struct cfg *c, const struct cfg_setting *s, const char *p, size_t len,
         struct cfg_error *err)
{
	struct cfg_topic_spans *spans = spans_of(c, s);
	const char *eq = memchr(p, '=', len);
	size_t tlen = eq ? (size_t)(eq - p) : 0;
	uint64_t ms;
	int i;

	if (!eq || !topic_is_valid(p, tlen) ||
	    duration_parse(eq + 1, len - tlen - 1, SPAN_MAX_MS, &ms) || !ms)
		return cfg_fail(
		    err,
		    "--%s: \"%.*s\" is not TOPIC=DURATION (a topic, "
		    "then 90s, 30m, 6h or 2d: at most a year)",
		    s->name, (int)(len > 80 ? 80 : len), p);
	for (i = 0; i < spans->n; i++)
		if (strlen(spans->at[i].topic) == tlen &&
		    !memcmp(spans->at[i].topic, p, tlen))
			break;
	if (i == CFG_MAX_TOPIC_SPANS)
		return cfg_fail(err, "--%s: more than %d topics", s->name,
		                CFG_MAX_TOPIC_SPANS);
	memcpy(spans->at[i].topic, p, tlen);
	spans->at[i].topic[tlen] = '\0';
	spans->at[i].ms = ms;
	if (i == spans->n)
		spans->n++;
	return 0;
}

static int
parse_spans(struct cfg *c, const struct cfg_setting *s, const char *list,
            struct cfg_error *err)
{
	return cfg_for_each_item(c, s, list, add_span, err);
}

/* The largest unit that divides ms exactly. */
static void
show_ms(uint64_t ms, char *buf, size_t len)
{
	if (ms % 86400000 == 0)
		snprintf(buf, len, "%llud",
		         (unsigned long long)(ms / 86400000));
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
}

/* "a=6h, b=30m" (exact) or "a=6h,b=30m" for logs; "none" when empty. */
static void
show_spans(const struct cfg *c, const struct cfg_setting *s, char *buf,
           size_t len, int exact)
{
	const struct cfg_topic_spans *spans = spans_of(c, s);
	size_t n = 0;

	buf[0] = '\0';
	if (!exact && !spans->n)
		snprintf(buf, len, "none");
	for (int i = 0; i < spans->n && n < len; i++) {
		char d[24];

		show_ms(spans->at[i].ms, d, sizeof(d));
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s",
		                      !n      ? ""
		                      : exact ? ", "
		                              : ",",
		                      spans->at[i].topic, d);
	}
}

const struct cfg_kind cfg_kind_topic_spans = {parse_spans, show_spans};

/* One span ("30s", "2m"): a uint64_t of milliseconds, 1 s to a day. */
static int
parse_span(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	uint64_t ms;

	if (duration_parse(text, strlen(text), 86400000, &ms) || !ms)
		return cfg_fail(err,
		                "--%s: \"%.40s\" is not a span of time (30s, "
		                "2m, 1h: 1 s to a day)",
		                s->name, text);
	memcpy((char *)c + s->offset, &ms, sizeof(ms));
	return 0;
}

static void
show_span(const struct cfg *c, const struct cfg_setting *s, char *buf,
          size_t len, int exact)
{
	uint64_t ms;

	(void)exact;
	memcpy(&ms, (const char *)c + s->offset, sizeof(ms));
	show_ms(ms, buf, len);
}

const struct cfg_kind cfg_kind_span = {parse_span, show_span};

uint64_t
cfg_topic_span(const struct cfg_topic_spans *spans, const char *topic)
{
	for (int i = 0; i < spans->n; i++)
		if (!strcmp(spans->at[i].topic, topic))
			return spans->at[i].ms;
	return 0;
}
