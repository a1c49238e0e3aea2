/* api_private.h: what api.c (publishing) and api_list.c (GET /api/items)
 * share.  Nothing else includes it. */
#ifndef TICKERD_API_PRIVATE_H
#define TICKERD_API_PRIVATE_H

#include "api.h"
#include "config.h"
#include "request.h"

#include <jansson.h>

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
