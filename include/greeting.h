/* greeting.h: what a client is sent first, and where it goes on from. */
#ifndef TICKERD_GREETING_H
#define TICKERD_GREETING_H

#include <stdint.h>

struct app;
struct msg;
struct topic_filter;

/*
 * greeting_prepare() - for a client of the topics f selects that resumes
 * after since (NULL or "" for a new client): out[0] is the hello; out[1]
 * the snapshot of recent items, or NULL when since is in the ring and the
 * client just goes on after it; a since that is not (trimmed away, Redis
 * lost its data, never seen here) gets a snapshot marked resync.  *next is
 * the ring position to continue from.  The caller owns out[].  0, or -1 on
 * ENOMEM (nothing to free).
 */
int greeting_prepare(struct app *app, const struct topic_filter *f,
                     const char *since, struct msg *out[2], uint64_t *next);

#endif
