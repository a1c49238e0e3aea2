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

int
topic_filter_match(const struct topic_filter *f, const char *topic)
{
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
	if (a->count != b->count)
		return 0;
	for (int i = 0; i < a->count; i++)
		if (strcmp(a->names[i], b->names[i]))
			return 0;
	return 1;
}
