/* topics.h: topic names and the set of topics a client watches. */
#ifndef TICKERD_TOPICS_H
#define TICKERD_TOPICS_H

#include <stddef.h>

#define TOPIC_MAX_LEN    64
#define TOPIC_FILTER_MAX 32

/*
 * A client's choice of topics, sorted and without duplicates; count 0 means
 * every topic.  A private topic (topics_private_set()) is let through only
 * if it is among the granted ones (sorted too: topic_filter_grant()), so
 * two clients of the same topics but other grants differ.  Lives as long
 * as whoever embeds it.
 */
struct topic_filter {
	int count;
	char names[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
	int granted;
	char grants[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
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

/*
 * topics_private_set() - the private topics, from "a,b,live-*" (exact
 * names, or a prefix ending in '*'; NULL or "": none): for the whole
 * process.  0, or -1 with a reason in why[] (the set is then empty).
 */
int topics_private_set(const char *list, char *why, size_t why_len);

/* topic_is_private() - 1 if topic is one of the private topics. */
int topic_is_private(const char *topic);

/* topics_private_any() - 1 if any topic is private. */
int topics_private_any(void);

/*
 * topic_filter_grant() - f's grants become those of names[0..n) that are
 * private and that f chose (every topic: any private one), sorted.
 */
void topic_filter_grant(struct topic_filter *f,
                        const char (*names)[TOPIC_MAX_LEN + 1], int n);

/*
 * topic_filter_locked() - the private topics f chose and is not granted
 * (choosing every topic: the private topics named exactly, not
 * patterns), into out (up to TOPIC_FILTER_MAX); how many.
 */
int topic_filter_locked(const struct topic_filter *f,
                        char (*out)[TOPIC_MAX_LEN + 1]);

#endif
