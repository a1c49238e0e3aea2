/* door_body.c: a POST's body, read by the door after its head: its length
 * judged from the head alone (Content-Length; no chunked encoding), the
 * door told how much to read, and the route handed the whole of it; a
 * request whose answer waits (door_hold(), door_resume()). */
#include "body.h"
#include "door_private.h"

#include "api.h"
#include "item.h"
#include "request.h"

#include <string.h>

#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

enum body_verdict
body_judge(const struct request *r, size_t limit, size_t *len)
{
	size_t n = 0;

	*len = 0;
	if (r->transfer_encoding.p || !r->content_length.p)
		return BODY_NO_LENGTH;
	if (r->content_length_twice)
		return BODY_BAD;
	/* request.c checked that it is all digits. */
	for (size_t i = 0; i < r->content_length.len; i++) {
		n = n * 10 + (size_t)(r->content_length.p[i] - '0');
		if (n > limit)
			return BODY_TOO_LARGE;
	}
	*len = n;
	return BODY_OK;
}

int
door_body(struct door_conn *c, struct request *r, enum door_next *next)
{
	size_t len;
	enum body_verdict v = body_judge(r, ITEM_MAX_PAYLOAD, &len);

	if (v != BODY_OK) {
		*next = api_body_refused(c, r, v, ITEM_MAX_PAYLOAD);
		return -1;
	}
	if (c->in_len - r->head_len < len) {
		struct req_str expect;

		/* curl waits a second for this before a body over 1 KiB. */
		if (!c->want && api_header(r, "expect", &expect) == 1 &&
		    req_equals(expect, "100-continue") &&
		    door_write(c, CONTINUE, sizeof(CONTINUE) - 1))
			c->peer_done = 1;
		c->want = r->head_len + len;
		return 1;
	}
	r->body.p = c->in + r->head_len;
	r->body.len = len;
	return 0;
}

enum door_next
door_hold(struct door_conn *c, uint64_t ms, void (*end)(void *arg, int expired),
          void *arg)
{
	c->held = 1;
	c->hold_end = end;
	c->hold_arg = arg;
	door_deadline_in(c, ms);
	/* Nothing is read meanwhile: a pipelined request waits its turn. */
	if (c->polling)
		uv_poll_stop(&c->poll);
	return DOOR_WAIT;
}

void
door_resume(struct door_conn *c, enum door_next next)
{
	c->held = 0;
	c->hold_end = NULL;
	if (next == DOOR_CLOSE)
		c->close_after = 1;
	door_deadline(c);
	door_process(c);
}

/* A held connection ends unanswered (expired: its time is up; else the
 * client left or it is handed on): its route is told, through
 * door_hold()'s end. */
void
door_hold_over(struct door_conn *c, int expired)
{
	c->held = 0;
	if (c->hold_end)
		c->hold_end(c->hold_arg, expired);
}
