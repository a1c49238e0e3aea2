/* redis_where.h: where the Redis master is: the address given, or the one
 * Sentinel or a Redis Cluster names, followed through failovers. */
#ifndef TICKERD_REDIS_WHERE_H
#define TICKERD_REDIS_WHERE_H

#include "config.h"
#include "rconn.h"

#include <stddef.h>
#include <uv.h>

struct redis_where;

/*
 * where_new() - find the master of target: the address itself (redis://,
 * unix://), what the sentinels say (sentinel://; sentinel_password for
 * them) or the owner of slot_key's slot (cluster://; the function library
 * is loaded on every master).  NULL on ENOMEM.
 */
struct redis_where *where_new(uv_loop_t *loop, const struct redis_target *t,
                              const char *sentinel_password,
                              const char *slot_key);

void where_start(struct redis_where *w);

/*
 * where_dest() - the rconn_dest of a connection to the master: it connects
 * where the master is now and checks ROLE first.
 */
const struct rconn_dest *where_dest(const struct redis_where *w);

/*
 * where_follow() - rc moves (rconn_retarget) whenever the master does.
 * At most WHERE_MAX_FOLLOWERS; rc must outlive w's use of it.
 */
#define WHERE_MAX_FOLLOWERS 4
void where_follow(struct redis_where *w, struct rconn *rc);

/*
 * where_suspect() - a connection was told the node is not the master
 * (READONLY, MOVED...): ask the sentinels or the cluster again now.
 */
void where_suspect(struct redis_where *w, const char *why);

/*
 * where_found() - for sentinel.c and cluster.c: the master is at a (why:
 * for the log).  Moves every follower when it differs from before.
 */
void where_found(struct redis_where *w, const struct redis_addr *a,
                 const char *why);

/* where_mode_name() - "direct", "sentinel" or "cluster". */
const char *where_mode_name(const struct redis_where *w);

/* where_master() - the master as host:port (or the socket's path), or
 * NULL while none is known. */
const char *where_master(const struct redis_where *w);

/* where_stop() / where_free() - as rconn_stop() / rconn_free(). */
void where_stop(struct redis_where *w);
void where_free(struct redis_where *w);

#endif
