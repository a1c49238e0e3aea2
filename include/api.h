/* api.h: the HTTP publish API: POST /api/items (publish, correct, kill
 * with a publisher key), GET /api/items (the desk's view, with who
 * published each item). */
#ifndef TICKERD_API_H
#define TICKERD_API_H

#include "body.h"
#include "door.h"
#include "seq.h"

#include <stddef.h>

struct request;
struct req_str;

/* How long a publish waits for Redis to record it before a 503 (ms). */
#define API_WAIT_MS 5000

/*
 * api_wants_body() - 1 if r (a POST) is one whose body the door reads for
 * the API (/api/items, /api/items/<topic>); other POSTs get their 405 at
 * once, body unread.
 */
int api_wants_body(const struct request *r);

/*
 * api_route() - answer a request for /api/...: POST publishes (held until
 * Redis has recorded it: DOOR_WAIT), GET lists; other methods 405,
 * other paths 404.  Every answer is JSON, counted by status
 * (tickerd_api_requests_total) and every refusal logged (never the key).
 */
enum door_next api_route(struct door_conn *c, const struct request *r);

/*
 * api_entry_read() - the log entry seq has been read (and shown, held or
 * skipped: then skipped says why, "stale" or "duplicate", else NULL):
 * publishes recorded as seq or earlier are answered now, so a client that
 * lists the items after its 201 sees what it published; the publish
 * recorded as seq itself, when it was skipped, is answered 409.
 */
void api_entry_read(struct seq seq, const char *skipped);

/*
 * api_body_refused() - the answer to a POST whose body the door will not
 * read (door_body.c): 411, 413 ({"error":"too_large","limit":limit}) or
 * 400.  Returns DOOR_CLOSE.
 */
enum door_next api_body_refused(struct door_conn *c, const struct request *r,
                                enum body_verdict v, size_t limit);

/*
 * api_bearer() - the key of an "Authorization: Bearer <key>" value s
 * (len bytes): 0 with *key, *key_len inside s; -1 when it is not one.
 */
int api_bearer(const char *s, size_t len, const char **key, size_t *key_len);

/*
 * api_header() - the value of header name (lowercase) in *out, trimmed: 1,
 * 0 when absent, -1 when it came more than once (*out: the first).
 */
int api_header(const struct request *r, const char *name, struct req_str *out);

/*
 * api_topic() - the topic a POST (its body in r->body) publishes to: the
 * path's (/api/items/<topic>), else ?topic=, else the JSON payload's own
 * "topic", into topic[0..len) (len > TOPIC_MAX_LEN): 0; or -1 with a
 * sentence in *why when none is given, two differ, or it is not a valid
 * topic.
 */
int api_topic(const struct request *r, char *topic, size_t len,
              const char **why);

/*
 * api_idempotency_ok() - 1 if s (len bytes) is a valid Idempotency-Key:
 * 1-128 printable ASCII bytes (no controls).
 */
int api_idempotency_ok(const char *s, size_t len);

#endif
