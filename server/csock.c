/* csock.c: clients' sockets after the door: watched on the loop (one
 * uv_poll_t each), read into the owner's rx, written with send(), what a
 * socket refuses kept and sent first, closed at once, soon or later. */
#include "csock.h"

#include "app.h"
#include "fanout.h"
#include "listener.h"
#include "log.h"

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define RX_CHUNK      4096 /* read at most this much per readable event */
#define LATER_TICK_MS 250  /* how often waiting closes are looked at */

struct csock {
	uv_poll_t poll;
	struct app *app;
	const struct csock_handler *h;
	struct csock *prev, *next;   /* every open csock */
	struct csock *pprev, *pnext; /* those to close soon or later */
	unsigned char *kept;         /* what the socket refused, in order */
	uint32_t kept_len, kept_off; /* kept[kept_off..kept_len) unsent */
	uint64_t close_at;           /* loop ms; 0: as soon as may be */
	int fd;
	unsigned events : 2;     /* UV_READABLE | UV_WRITABLE watched now */
	unsigned want_write : 1; /* a writeable call was asked for */
	unsigned pending : 1;    /* in the list to close */
	unsigned closed : 1;
	alignas(max_align_t) unsigned char owner[];
};

/* The loop's client sockets: one app, one loop, so one of these. */
static struct {
	struct csock *all, *pending;
	uv_timer_t timer; /* closes what is pending */
	int timer_on;     /* initialised (and not closed) */
} socks;

static void close_now(struct csock *s);
static void on_poll(uv_poll_t *p, int status, int events);

void *
csock_owner(struct csock *s)
{
	return s->owner;
}

struct csock *
csock_of(void *owner)
{
	return (struct csock *)((unsigned char *)owner -
	                        offsetof(struct csock, owner));
}

struct app *
csock_app(const struct csock *s)
{
	return s->app;
}

int
csock_holding(const struct csock *s)
{
	return s->kept_off < s->kept_len;
}

/* Watch what s needs now: reading always, room while it holds bytes or a
 * writeable call was asked for.  0, or -1 if libuv refused. */
static int
watch(struct csock *s)
{
	unsigned ev =
	    UV_READABLE | (s->want_write || csock_holding(s) ? UV_WRITABLE : 0);

	if (s->closed || ev == s->events)
		return 0;
	s->events = ev & 3;
	return uv_poll_start(&s->poll, (int)ev, on_poll) ? -1 : 0;
}

ssize_t
csock_try(struct csock *s, const unsigned char *p, size_t len)
{
	ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
	                                                                 : -1;
}

int
csock_keep(struct csock *s, const unsigned char *p, size_t len)
{
	size_t left = s->kept_len - s->kept_off;
	unsigned char *k;

	if (s->closed || left + len > UINT32_MAX)
		return -1;
	if (s->kept_off) { /* what went out makes room at the front */
		memmove(s->kept, s->kept + s->kept_off, left);
		s->kept_off = 0;
		s->kept_len = (uint32_t)left;
	}
	k = realloc(s->kept, left + len);
	if (!k)
		return -1;
	memcpy(k + left, p, len);
	s->kept = k;
	s->kept_len = (uint32_t)(left + len);
	return watch(s);
}

int
csock_write(struct csock *s, const unsigned char *p, size_t len)
{
	ssize_t n = 0;

	if (!csock_holding(s) && (n = csock_try(s, p, len)) < 0)
		return -1;
	if ((size_t)n < len)
		return csock_keep(s, p + n, len - (size_t)n);
	return 0;
}

void
csock_want_writeable(struct csock *s)
{
	s->want_write = 1;
	if (watch(s))
		csock_close_soon(s);
}

int
csock_unacked(const struct csock *s)
{
	int n;

	if (ioctl(s->fd, TIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

/* Out of the pending list. */
static void
unpend(struct csock *s)
{
	if (!s->pending)
		return;
	if (s->pprev)
		s->pprev->pnext = s->pnext;
	else
		socks.pending = s->pnext;
	if (s->pnext)
		s->pnext->pprev = s->pprev;
	s->pprev = s->pnext = NULL;
	s->pending = 0;
}

/* Close what is due in the pending list; wait for the rest. */
static void
on_timer(uv_timer_t *t)
{
	uint64_t now = uv_now(t->loop), next = 0;
	struct csock *s, *n, *due = NULL;

	/* Taken out first: closing one may pend or close others. */
	for (s = socks.pending; s; s = n) {
		n = s->pnext;
		if (s->close_at <= now) {
			unpend(s);
			s->pnext = due;
			due = s;
		}
	}
	for (s = due; s; s = n) {
		n = s->pnext;
		s->pnext = NULL;
		close_now(s);
	}
	for (s = socks.pending; s; s = s->pnext)
		if (!next || s->close_at < next)
			next = s->close_at;
	if (socks.pending)
		uv_timer_start(t, on_timer,
		               next <= now                  ? 0
		               : next - now < LATER_TICK_MS ? next - now
		                                            : LATER_TICK_MS,
		               0);
}

/* Put s in the pending list, to close at (loop ms; 0: at once). */
static void
pend(struct csock *s, uint64_t at)
{
	if (s->closed)
		return;
	if (s->pending) {
		if (at >= s->close_at)
			return; /* already due as soon */
		unpend(s);
	}
	s->close_at = at;
	s->pending = 1;
	s->pnext = socks.pending;
	if (socks.pending)
		socks.pending->pprev = s;
	socks.pending = s;
	if (!socks.timer_on) {
		uv_timer_init(&s->app->loop, &socks.timer);
		socks.timer_on = 1;
	}
	/* At once: after this loop turn, whatever the caller is in. */
	if (!at || !uv_is_active((uv_handle_t *)&socks.timer) ||
	    uv_timer_get_due_in(&socks.timer) > at - uv_now(&s->app->loop))
		uv_timer_start(&socks.timer, on_timer,
		               at ? at - uv_now(&s->app->loop) : 0, 0);
}

void
csock_close_soon(struct csock *s)
{
	pend(s, 0);
}

void
csock_close_after(struct csock *s, unsigned secs)
{
	pend(s, uv_now(&s->app->loop) + (uint64_t)secs * 1000);
}

/* Read what the client sent: 0, or -1 to close (it left, or its rx said). */
static int
read_some(struct csock *s)
{
	unsigned char buf[RX_CHUNK];
	ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0)
		return s->h->rx(s, buf, (size_t)n);
	if (n == 0)
		return -1;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
	                                                                 : -1;
}

/* The socket has room: what is kept first, then the owner's turn.  0, or
 * -1 to close. */
static int
room(struct csock *s)
{
	if (csock_holding(s)) {
		ssize_t n = csock_try(s, s->kept + s->kept_off,
		                      s->kept_len - s->kept_off);

		if (n < 0)
			return -1;
		s->kept_off += (uint32_t)n;
		if (csock_holding(s))
			return 0; /* still watching for room */
		free(s->kept);
		s->kept = NULL;
		s->kept_len = s->kept_off = 0;
	}
	s->want_write = 0;
	if (s->h->writeable(s))
		return -1;
	return watch(s);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct csock *s = p->data;

	/* Keep the accept queue moving during long loop turns. */
	listener_poke(s->app->listener);
	if (status < 0 || ((events & UV_READABLE) && read_some(s))) {
		close_now(s);
		return;
	}
	if (!s->closed && (events & UV_WRITABLE) && room(s))
		close_now(s);
}

struct csock *
csock_open(struct app *app, int fd, const struct csock_handler *h,
           size_t owner_size)
{
	struct csock *s = calloc(1, sizeof(*s) + owner_size);

	if (!s || uv_poll_init(&app->loop, &s->poll, fd)) {
		log_warn("could not take a client's connection");
		free(s);
		close(fd);
		return NULL;
	}
	s->poll.data = s;
	s->app = app;
	s->h = h;
	s->fd = fd;
	s->next = socks.all;
	if (socks.all)
		socks.all->prev = s;
	socks.all = s;
	s->events = UV_READABLE;
	uv_poll_start(&s->poll, UV_READABLE, on_poll);
	return s;
}

static void
on_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Close s now: its owner told, its socket closed, its memory freed once
 * libuv lets go of the handle. */
static void
close_now(struct csock *s)
{
	if (s->closed)
		return;
	s->closed = 1;
	unpend(s);
	if (s->prev)
		s->prev->next = s->next;
	else
		socks.all = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_poll_stop(&s->poll);
	s->h->closed(s);
	close(s->fd);
	free(s->kept);
	s->kept = NULL;
	uv_close((uv_handle_t *)&s->poll, on_closed);
}

void
csock_close_all(struct app *app)
{
	(void)app;
	while (socks.all)
		close_now(socks.all);
	if (socks.timer_on) {
		uv_close((uv_handle_t *)&socks.timer, NULL);
		socks.timer_on = 0;
	}
}

/* The fan-out's operations, on csocks. */
static ssize_t
op_try(struct fan_conn *c, const unsigned char *p, size_t len)
{
	return csock_try((struct csock *)c, p, len);
}

static int
op_keep(struct fan_conn *c, const unsigned char *p, size_t len)
{
	return csock_keep((struct csock *)c, p, len);
}

static int
op_holding(struct fan_conn *c)
{
	return csock_holding((struct csock *)c);
}

static void
op_want_writeable(struct fan_conn *c)
{
	csock_want_writeable((struct csock *)c);
}

static void
op_close_soon(struct fan_conn *c)
{
	csock_close_soon((struct csock *)c);
}

static int
op_unacked(struct fan_conn *c)
{
	return csock_unacked((struct csock *)c);
}

const struct fan_ops csock_fan_ops = {
    .try_send = op_try,
    .keep = op_keep,
    .holding = op_holding,
    .want_writeable = op_want_writeable,
    .close_soon = op_close_soon,
    .unacked = op_unacked,
};
