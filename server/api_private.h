/* api_private.h: what api.c (publishing), api_wait.c (the answers that
 * wait) and api_list.c (GET /api/items) share.  Nothing else includes it. */
#ifndef TICKERD_API_PRIVATE_H
#define TICKERD_API_PRIVATE_H

#include "api.h"
#include "config.h"
#include "request.h"
#include "seq.h"
#include "topics.h"

#include <jansson.h>
#include <stddef.h>

struct record;

/* One publish waiting for Redis: from the FCALL sent until its answer, the
 * client leaving or API_WAIT_MS. */
struct api_wait {
	struct api_wait *next, *prev; /* recorded, not yet read back */
	struct seq seq;               /* once recorded */
	char id[SEQ_STR_LEN];         /* "" until recorded */
	struct door_conn *c;
	struct request r; /* method and keep_alive, for the answer */
	struct record *rec;
	char by[65];
	char topic[TOPIC_MAX_LEN + 1];
	char *payload; /* a copy: the 201 shows the item as read back */
	size_t len;
};

/* api_wait.c's: free w; Redis's answer to w's record (a changelog_done_fn);
 * the end of w's hold (door_hold()'s end). */
void api_wait_free(struct api_wait *w);
void api_on_recorded(void *arg, const char *id, const char *why);
void api_on_hold_end(void *arg, int expired);

/*
 * api_answer() - write body (stolen; NULL: out of memory, a 500) as the
 * JSON answer with status, counted in tickerd_api_requests_total.
 */
enum door_next api_answer(struct door_conn *c, const struct request *r,
                          int status, json_t *body, const char *extra,
                          int keep);

/*
 * api_refuse() - {"error":error[,"field":field][,"message":message]} with
 * status, and a log line (the method, path and address: never a key).
 */
enum door_next api_refuse(struct door_conn *c, const struct request *r,
                          int status, const char *error, const char *field,
                          const char *message, const char *extra);

/*
 * api_key() - the publisher key r's Authorization: Bearer names, or NULL
 * when there is none or it matches no key: answered 401 then (*next).
 */
const struct cfg_pubkey *api_key(struct door_conn *c, const struct request *r,
                                 enum door_next *next);

/* api_list() - GET /api/items (api_list.c). */
enum door_next api_list(struct door_conn *c, const struct request *r);

#endif
