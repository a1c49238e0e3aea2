/* topics.c: topic name rules and client topic filters. */
#include "topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
topic_is_valid(const char *s, size_t len)
{
	if (!len || len > TOPIC_MAX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int
topic_filter_parse(struct topic_filter *f, const char *list, char *why,
                   size_t why_len)
{
	const char *p = list;

	memset(f, 0, sizeof(*f));
	if (!list || !*list)
		return 0;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len) {
			if (!topic_is_valid(p, len)) {
				snprintf(why, why_len,
				         "invalid topic name \"%.*s\"",
				         (int)(len > 64 ? 64 : len), p);
				return -1;
			}
			if (f->count == TOPIC_FILTER_MAX) {
				snprintf(why, why_len,
				         "more than %d topics requested",
				         TOPIC_FILTER_MAX);
				return -1;
			}
			memcpy(f->names[f->count], p, len);
			f->names[f->count++][len] = '\0';
		}
		if (!end)
			break;
		p = end + 1;
	}

	/* Sort and drop duplicates so equal choices compare equal. */
	qsort(f->names, (size_t)f->count, sizeof(f->names[0]), compare_names);
	int kept = 0;
	for (int i = 0; i < f->count; i++)
		if (!kept || strcmp(f->names[kept - 1], f->names[i]))
			memmove(f->names[kept++], f->names[i],
			        sizeof(f->names[0]));
	f->count = kept;
	return 0;
}

/* The private topics: names, or prefixes (pattern[i] set). */
static struct {
	int n;
	char names[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
	unsigned char prefix[TOPIC_FILTER_MAX];
} private_topics;

int
topics_private_set(const char *list, char *why, size_t why_len)
{
	const char *p = list;

	memset(&private_topics, 0, sizeof(private_topics));
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int star = len > 1 && p[len - 1] == '*';
		size_t name_len = star ? len - 1 : len;

		if (len) {
			if (!topic_is_valid(p, name_len) ||
			    private_topics.n == TOPIC_FILTER_MAX) {
				snprintf(why, why_len,
				         "\"%.*s\" is not a topic name nor a "
				         "prefix* (or more than %d)",
				         (int)(len > 64 ? 64 : len), p,
				         TOPIC_FILTER_MAX);
				memset(&private_topics, 0,
				       sizeof(private_topics));
				return -1;
			}
			memcpy(private_topics.names[private_topics.n], p,
			       name_len);
			private_topics.prefix[private_topics.n++] =
			    (unsigned char)star;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

int
topics_private_any(void)
{
	return private_topics.n > 0;
}

int
topic_is_private(const char *topic)
{
	for (int i = 0; i < private_topics.n; i++) {
		const char *name = private_topics.names[i];

		if (private_topics.prefix[i]
		        ? !strncmp(topic, name, strlen(name))
		        : !strcmp(topic, name))
			return 1;
	}
	return 0;
}

/* 1 if name is in the sorted list of n names. */
static int
listed(const char (*list)[TOPIC_MAX_LEN + 1], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return 1;
	return 0;
}

void
topic_filter_grant(struct topic_filter *f,
                   const char (*names)[TOPIC_MAX_LEN + 1], int n)
{
	f->granted = 0;
	for (int i = 0; i < n && f->granted < TOPIC_FILTER_MAX; i++) {
		if (!topic_is_private(names[i]) ||
		    (f->count && !listed(f->names, f->count, names[i])) ||
		    listed(f->grants, f->granted, names[i]))
			continue;
		memcpy(f->grants[f->granted++], names[i], TOPIC_MAX_LEN + 1);
	}
	qsort(f->grants, (size_t)f->granted, sizeof(f->grants[0]),
	      compare_names);
}

int
topic_filter_locked(const struct topic_filter *f,
                    char (*out)[TOPIC_MAX_LEN + 1])
{
	int n = 0;

	if (f->count) {
		for (int i = 0; i < f->count; i++)
			if (topic_is_private(f->names[i]) &&
			    !listed(f->grants, f->granted, f->names[i]))
				memcpy(out[n++], f->names[i],
				       TOPIC_MAX_LEN + 1);
		return n;
	}
	for (int i = 0; i < private_topics.n; i++)
		if (!private_topics.prefix[i] &&
		    !listed(f->grants, f->granted, private_topics.names[i]))
			memcpy(out[n++], private_topics.names[i],
			       TOPIC_MAX_LEN + 1);
	return n;
}

int
topic_filter_match(const struct topic_filter *f, const char *topic)
{
	if (private_topics.n && topic_is_private(topic) &&
	    !listed(f->grants, f->granted, topic))
		return 0;
	if (!f->count)
		return 1;
	for (int i = 0; i < f->count; i++)
		if (!strcmp(f->names[i], topic))
			return 1;
	return 0;
}

int
topic_filter_equal(const struct topic_filter *a, const struct topic_filter *b)
{
	if (a->count != b->count || a->granted != b->granted)
		return 0;
	for (int i = 0; i < a->count; i++)
		if (strcmp(a->names[i], b->names[i]))
			return 0;
	for (int i = 0; i < a->granted; i++)
		if (strcmp(a->grants[i], b->grants[i]))
			return 0;
	return 1;
}
