/* redis_uv.h: attach a hiredis async context to a libuv loop. */
#ifndef TICKERD_REDIS_UV_H
#define TICKERD_REDIS_UV_H

#include <hiredis/async.h>
#include <uv.h>

/*
 * redis_uv_attach() - drive ac from loop through one uv_poll_t.  Replaces
 * hiredis 0.14's adapters/libuv.h, which drops every poll event that
 * carries an error status: a refused or reset connection then never
 * reaches hiredis and the context hangs in "connecting" forever.  Here an
 * error is handed to hiredis as the events it asked for, so it reads the
 * socket error itself (what hiredis 1.0's adapter does).  Attaching twice
 * is refused.  Returns REDIS_OK or REDIS_ERR.
 */
int redis_uv_attach(redisAsyncContext *ac, uv_loop_t *loop);

#endif
