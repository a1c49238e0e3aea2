/* redis_uv.c: hiredis's six event hooks on a libuv poll handle. */
#include "redis_uv.h"

#include <stdlib.h>

/* One per attached context; freed when libuv has closed the handle. */
struct redis_uv {
	redisAsyncContext *ac; /* NULL once hiredis has cleaned up */
	uv_poll_t poll;
	int events; /* UV_READABLE | UV_WRITABLE wanted by hiredis */
};

static void
on_poll(uv_poll_t *handle, int status, int events)
{
	struct redis_uv *r = handle->data;

	/* On error, let hiredis try what it wanted and see the failure. */
	if (status)
		events = r->events;
	if (r->ac && (events & UV_READABLE))
		redisAsyncHandleRead(r->ac);
	if (r->ac && (events & UV_WRITABLE))
		redisAsyncHandleWrite(r->ac);
}

/*
 * Watch for events from now on.  Asked again for what it already watches
 * (hiredis asks for writability with every command), nothing is done:
 * uv_poll_start() on a started handle drops the events libuv already has
 * for it in this loop turn, so while another connection's replies (a
 * burst of pmessages, each recorded with a command here) kept asking, this
 * one never got to write: for seconds, its commands and PING unsent.
 */
static void
update(struct redis_uv *r, int events)
{
	if (events == r->events)
		return;
	r->events = events;
	if (events)
		uv_poll_start(&r->poll, events, on_poll);
	else
		uv_poll_stop(&r->poll);
}

static void
add_read(void *p)
{
	struct redis_uv *r = p;

	update(r, r->events | UV_READABLE);
}

static void
del_read(void *p)
{
	struct redis_uv *r = p;

	update(r, r->events & ~UV_READABLE);
}

static void
add_write(void *p)
{
	struct redis_uv *r = p;

	update(r, r->events | UV_WRITABLE);
}

static void
del_write(void *p)
{
	struct redis_uv *r = p;

	update(r, r->events & ~UV_WRITABLE);
}

static void
on_closed(uv_handle_t *handle)
{
	free(handle->data);
}

/* hiredis is freeing the context: stop using it, close the handle. */
static void
cleanup(void *p)
{
	struct redis_uv *r = p;

	r->ac = NULL;
	uv_close((uv_handle_t *)&r->poll, on_closed);
}

int
redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct redis_uv *r;

	if (ac->ev.data)
		return REDIS_ERR;
	r = calloc(1, sizeof(*r));
	if (!r)
		return REDIS_ERR;
	if (uv_poll_init(loop, &r->poll, ac->c.fd)) {
		free(r);
		return REDIS_ERR;
	}
	r->ac = ac;
	r->poll.data = r;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = r;
	return REDIS_OK;
}
