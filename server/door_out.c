/* door_out.c: what the door writes and what follows an answer: answers
 * written (what the socket refused kept, and sent when it is writable),
 * then the connection waits for its next request (keep-alive) or, answered
 * for the last time, lingers until its client closes. */
#include "door_private.h"

#include "app.h"
#include "guard.h"
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINGER_MS 2000 /* reading what follows a last answer, at most */

int
door_write(struct door_conn *c, const char *buf, size_t len)
{
	ssize_t n = 0;
	char *more;

	if (c->out_off == c->out_len) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -1;
			n = 0;
		}
		if ((size_t)n == len)
			return 0;
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
	}
	more = realloc(c->out, c->out_len + len - (size_t)n);
	if (!more)
		return -1;
	memcpy(more + c->out_len, buf + n, len - (size_t)n);
	c->out = more;
	c->out_len += len - (size_t)n;
	return 0;
}

void
door_answered(struct door_conn *c, int ok, int keep)
{
	if (!ok) {
		c->close_after = 1;
		c->peer_done = 1;
		return;
	}
	c->served++;
	if (!keep)
		c->close_after = 1;
}

int
door_head_later(struct door_conn *c, int status)
{
	if (c->out_off != c->out_len)
		return -1;
	metrics_response(status);
	return 0;
}

/*
 * Close c after its last answer went out: closing a socket with unread
 * input resets the connection, and the reset can destroy the answer before
 * the client reads it (a 400 to a request with a body, a 431).  So stop
 * writing, and read and drop what still comes, until the client closes
 * or LINGER_MS pass.
 */
static void
linger(struct door_conn *c)
{
	if (c->peer_done || shutdown(c->fd, SHUT_WR)) {
		door_conn_end(c, 0);
		return;
	}
	c->lingering = 1;
	c->in_len = 0;
	/* Answered for good: no longer an unfinished request. */
	guard_depart(c->door->app->guard, c->addr);
	c->addr = NULL;
	door_deadline_in(c, LINGER_MS);
	if (door_watch(c, UV_READABLE))
		door_conn_end(c, 0);
}

/* Read and drop what a lingering client sends; its end ends c. */
void
door_drop_input(struct door_conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0)
			continue;
		if (n < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		door_conn_end(c, 0);
		return;
	}
}

/* Wait for what comes next: the rest of the answer, or the next request. */
void
door_rewatch(struct door_conn *c)
{
	if (c->out_off < c->out_len) {
		if (door_watch(c, UV_WRITABLE))
			door_conn_end(c, 0);
		return;
	}
	if (c->close_after) {
		linger(c);
		return;
	}
	if (c->peer_done) {
		door_conn_end(c, 0);
		return;
	}
	/*
	 * Answered, and nothing of a next request yet: an idle kept-alive
	 * connection is not an unfinished request (a page's files, a
	 * monitor's polls) until it sends one.
	 */
	if (c->served && !c->in_len && c->addr) {
		guard_depart(c->door->app->guard, c->addr);
		c->addr = NULL;
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	if (door_watch(c, UV_READABLE))
		door_conn_end(c, 0);
}

/* c's socket is writable: more of what it refused goes out; once all of
 * it has, requests waiting behind the answer are read (door_process()). */
void
door_flush(struct door_conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
	                 MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR) {
		door_conn_end(c, 0);
		return;
	}
	if (n > 0)
		c->out_off += (size_t)n;
	if (c->out_off == c->out_len) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		door_process(c); /* pipelined requests waited for this */
	}
}
