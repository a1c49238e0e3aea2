/* topics.h: topic names and the set of topics a client watches. */
#ifndef TICKERD_TOPICS_H
#define TICKERD_TOPICS_H

#include <stddef.h>

#define TOPIC_MAX_LEN    64
#define TOPIC_FILTER_MAX 32

/*
 * A client's choice of topics, sorted and without duplicates; count 0 means
 * every topic.  Lives as long as whoever embeds it.
 */
struct topic_filter {
	int count;
	char names[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
};

/* topic_is_valid() - 1 if s[0..len) is 1-64 of [A-Za-z0-9_.-]. */
int topic_is_valid(const char *s, size_t len);

/*
 * topic_filter_parse() - read "a,b,c" (NULL or "" = all topics) into f.
 * Returns 0, or -1 with a reason in why[] for an invalid name or too many.
 */
int topic_filter_parse(struct topic_filter *f, const char *list, char *why,
                       size_t why_len);

/* topic_filter_match() - 1 if the filter lets topic through. */
int topic_filter_match(const struct topic_filter *f, const char *topic);

/* topic_filter_equal() - 1 if both select the same topics. */
int topic_filter_equal(const struct topic_filter *a,
                       const struct topic_filter *b);

#endif
