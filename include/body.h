/* body.h: what a POST's head says of its body (Content-Length only). */
#ifndef TICKERD_BODY_H
#define TICKERD_BODY_H

#include <stddef.h>

struct request;

enum body_verdict {
	BODY_OK = 0,    /* Content-Length: *len bytes follow the head */
	BODY_NO_LENGTH, /* no Content-Length, or a Transfer-Encoding: 411 */
	BODY_TOO_LARGE, /* more than the limit: 413, without reading it */
	BODY_BAD,       /* Content-Length sent twice: 400 */
};

/*
 * body_judge() - r's body: BODY_OK with its length in *len (0 to limit
 * bytes), or why it is not read.  Chunked bodies are not taken: a
 * publisher's client sends a length (curl does for -d and --data-binary).
 */
enum body_verdict body_judge(const struct request *r, size_t limit,
                             size_t *len);

#endif
