/* redis_node.h: what a Redis node's answers say about it (its role, and
 * the errors that mean "not the master, ask again"). */
#ifndef TICKERD_REDIS_NODE_H
#define TICKERD_REDIS_NODE_H

#include <hiredis/hiredis.h>

/*
 * redis_role() - read ROLE's answer: 1 if the node is a master (*replicas:
 * how many replicas it has connected), 0 if it is not (a replica or a
 * sentinel), -1 if ROLE was refused (an ACL without it, an old Redis):
 * the role is unknown.
 */
int redis_role(const redisReply *r, int *replicas);

/*
 * redis_error_moved() - 1 if the error means this node is not (or not yet,
 * or no longer) where writes go: READONLY, NOREPLICAS, LOADING,
 * MASTERDOWN, MOVED, ASK, CLUSTERDOWN, TRYAGAIN.  What was refused is to
 * be sent again once the master is found, never dropped.
 */
int redis_error_moved(const char *err);

#endif
