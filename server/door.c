/* door.c: the front door: every new connection's request.
 *
 * lws 4.1 gives each connection one of a small pool of header tables as
 * soon as it is adopted, holds it while the request trickles in, and
 * keeps it for the life of a response it did not finish (an EventSource
 * stream): sixteen idle sockets, or sixteen readers, were enough to stop
 * every new request.  Here a connection first reads its request head into
 * a buffer of its own, within --handshake-timeout and --max-per-ip of them
 * per address; only a whole, vetted request goes on: plain HTTP is
 * answered here (routes in http.c); a WebSocket or EventSource connection
 * is answered here too (101, or the stream's head, which go out with the
 * greeting) and then becomes a client socket (csock.c).  Under --proxy-protocol a connection first brings a
 * PROXY header (proxyproto.c) naming its client; through a --trusted-proxy,
 * each request's client is the one its forwarding headers name
 * (forwarded.c): limits, logs and metrics count that address.
 */
#include "door_private.h"

#include "csock.h"

#include "api.h"
#include "app.h"
#include "forwarded.h"
#include "guard.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "proxyproto.h"
#include "request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_FIRST 1024 /* first read buffer; doubles up to the head's max */

static void on_poll(uv_poll_t *p, int status, int events);

struct door *
door_new(struct app *app)
{
	struct door *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->app = app;
	uv_timer_init(&app->loop, &d->tick);
	d->tick.data = d;
	return d;
}

size_t
door_count(const struct door *d)
{
	return d->count;
}

const char *
door_ip(const struct door_conn *c)
{
	return c->who ? c->who->ip : c->ip;
}

const struct fwd_client *
door_client(const struct door_conn *c)
{
	return c->who;
}

struct app *
door_app(const struct door_conn *c)
{
	return c->door->app;
}

static void
conn_free(struct door_conn *c)
{
	free(c->in);
	free(c->out);
	free(c);
}

static void
on_closed(uv_handle_t *h)
{
	conn_free(h->data);
}

/*
 * Forget c: out of the list, uncounted, its poll stopped (synchronously:
 * the socket may be handed on at once) and freed.  The socket is closed
 * unless keep_fd.
 */
void
door_conn_end(struct door_conn *c, int keep_fd)
{
	struct door *d = c->door;

	if (c->held)
		door_hold_over(c, 0);

	door_unlist(c);
	d->count--;
	guard_depart(d->app->guard, c->addr);
	c->addr = NULL;
	if (c->polling)
		uv_close((uv_handle_t *)&c->poll, on_closed);
	if (!keep_fd)
		close(c->fd);
	c->fd = -1;
	if (!c->polling)
		conn_free(c);
	if (!d->first && d->ticking) {
		uv_timer_stop(&d->tick);
		d->ticking = 0;
	}
}

/* Wait for events (UV_READABLE or UV_WRITABLE) on c; -1 closes it. */
int
door_watch(struct door_conn *c, int events)
{
	if (!c->polling) {
		if (uv_poll_init(&c->door->app->loop, &c->poll, c->fd))
			return -1;
		c->poll.data = c;
		c->polling = 1;
	}
	return uv_poll_start(&c->poll, events, on_poll) ? -1 : 0;
}

struct csock *
door_to_csock(struct door_conn *c, const struct csock_handler *h,
              size_t owner_size)
{
	struct app *app = c->door->app;
	int fd = c->fd;

	door_conn_end(c, 1);
	return csock_open(app, fd, h, owner_size);
}

/* The status and reason for a request head that can't be served. */
static enum door_next
refuse_head(struct door_conn *c, enum req_result res)
{
	switch (res) {
	case REQ_TOO_LARGE:
		guard_refused(GUARD_TOO_LARGE, c->ip);
		return door_refuse(c, NULL, 431, "request head too large",
		                   NULL);
	case REQ_VERSION:
		guard_refused(GUARD_BAD_REQUEST, c->ip);
		return door_refuse(c, NULL, 505, "HTTP/1.0 or 1.1 only", NULL);
	default:
		guard_refused(GUARD_BAD_REQUEST, c->ip);
		return door_refuse(c, NULL, 400, "malformed request", NULL);
	}
}

/*
 * c's address is known (its peer's, or its PROXY header's): a trusted
 * proxy's connections are not counted at the door (the proxy holds slow
 * clients itself, and each request names its client), anyone else's are
 * (--max-per-ip unfinished).  0, or -1 when refused (counted): close c.
 */
static int
arrive(struct door_conn *c)
{
	struct app *app = c->door->app;

	c->trusted = fwd_trusted(&app->cfg, c->ip);
	if (c->trusted)
		return 0;
	c->addr = guard_arrive(app->guard, c->ip);
	return c->addr ? 0 : -1;
}

/*
 * The PROXY header c must begin with (--proxy-protocol): once it is whole,
 * c is the client it names (counted against that address; UNKNOWN and
 * LOCAL keep the peer's).  0 once read, 1 while it is incomplete, -1 when
 * c was closed: no valid header (counted as proxy_header), or its address
 * has too many unfinished requests.
 */
static int
take_proxy_header(struct door_conn *c)
{
	static int warned;
	struct proxy_hdr h;
	size_t used;
	enum proxy_result res = proxy_parse(c->in, c->in_len, &h, &used);

	if (res == PROXY_INCOMPLETE && !c->peer_done)
		return 1;
	if (res != PROXY_OK) {
		guard_refused(GUARD_PROXY_HDR, c->ip);
		if (!warned && (warned = 1))
			log_warn("a connection from %s began without a PROXY "
			         "header (--proxy-protocol): closed; does the "
			         "proxy send one (HAProxy send-proxy, nginx "
			         "proxy_protocol on)?",
			         c->ip);
		door_conn_end(c, 0);
		return -1;
	}
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	c->want_proxy = 0;
	if (!h.local)
		snprintf(c->ip, sizeof(c->ip), "%s", h.src);
	if (arrive(c)) {
		door_conn_end(c, 0);
		return -1;
	}
	return 0;
}

/* Answer every whole request in c->in, in order, while answers go out. */
void
door_process(struct door_conn *c)
{
	int wait = c->want_proxy ? take_proxy_header(c) : 0;
	size_t used;

	if (wait < 0 || c->held)
		return;
	while (!wait && c->in_len && !c->close_after &&
	       c->out_off == c->out_len) {
		struct request r;
		enum req_result res = request_parse(&r, c->in, c->in_len);
		enum door_next next;

		if (res == REQ_INCOMPLETE)
			break;
		if (res == REQ_OK) {
			int body = r.method == REQ_POST && api_wants_body(&r)
			               ? door_body(c, &r, &next)
			               : 0;

			if (body > 0)
				break; /* the rest of the body is to come */
			/* Who it is from: the peer, or whom its proxy names. */
			fwd_resolve(&c->routed, &r, c->ip, &c->door->app->cfg);
			c->who = &c->routed;
			if (!body)
				next = http_route(c, &r);
		} else {
			next = refuse_head(c, res);
		}
		if (next == DOOR_GONE)
			return;
		c->who = NULL;
		if (next == DOOR_CLOSE) {
			c->close_after = 1;
			break;
		}
		used = r.head_len + r.body.len;
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		c->want = 0;
		if (next == DOOR_WAIT)
			break;    /* held: door_resume() goes on */
		door_deadline(c); /* the next request's time starts now */
	}
	if (!c->held)
		door_rewatch(c);
}

/* Read what the client sent; 0, or -1 if the connection is gone. */
static int
read_in(struct door_conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? 2 * c->in_cap : IN_FIRST;
			char *in;

			/* Past the largest head (and a POST's body): let
			 * the parser say so. */
			if (c->in_cap > REQ_HEAD_MAX && c->in_cap >= c->want)
				return 0;
			in = realloc(c->in, cap);
			if (!in)
				return -1;
			c->in = in;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len,
		         MSG_DONTWAIT);
		if (n == 0) {
			c->peer_done = 1;
			return 0;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ||
			               errno == EINTR
			           ? 0
			           : -1;
		c->in_len += (size_t)n;
	}
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct door_conn *c = p->data;

	/* Keep the accept queue moving while thousands of requests come in. */
	listener_poke(c->door->app->listener);

	if (status < 0) {
		door_conn_end(c, 0);
		return;
	}
	if (events & UV_WRITABLE) {
		door_flush(c);
		return;
	}
	if ((events & UV_READABLE) && c->lingering) {
		door_drop_input(c);
		return;
	}
	if (events & UV_READABLE) {
		/* A kept-alive connection begins its next request. */
		if (!c->addr && !c->trusted && !c->want_proxy &&
		    !(c->addr = guard_arrive(c->door->app->guard, c->ip))) {
			door_conn_end(c, 0);
			return;
		}
		if (read_in(c)) {
			door_conn_end(c, 0);
			return;
		}
		if (c->peer_done && !c->in_len) {
			door_conn_end(c, 0);
			return;
		}
		door_process(c);
	}
}

/* Past its deadline: 408 if it began a request, then closed. */
void
door_expire(struct door_conn *c)
{
	if (c->held) {
		/* Its route answers now (it waited too long), then it ends. */
		door_hold_over(c, 1);
		door_conn_end(c, 0);
		return;
	}
	if (!c->lingering && (c->in_len || !c->served)) {
		guard_refused(GUARD_TIMEOUT, c->ip);
		if (c->in_len && !c->want_proxy && c->out_off == c->out_len) {
			door_refuse(c, NULL, 408,
			            "request not received in time", NULL);
		}
	}
	door_conn_end(c, 0);
}

/* The peer's address as text ("" if unknown). */
static void
peer_ip(const struct sockaddr *sa, char *ip, size_t len)
{
	ip[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		          ip, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		          &((const struct sockaddr_in6 *)sa)->sin6_addr, ip,
		          (socklen_t)len);
}

void
door_accept(struct door *d, int fd, const struct sockaddr *peer)
{
	struct door_conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->door = d;
	c->fd = fd;
	peer_ip(peer, c->ip, sizeof(c->ip));
	/*
	 * Behind --proxy-protocol every peer is a proxy: the connection is
	 * counted against its client once the header has named it.
	 */
	c->want_proxy = d->app->cfg.proxy_protocol != 0;
	if (!c->want_proxy && arrive(c)) {
		close(fd);
		free(c);
		return;
	}
	d->count++;
	door_deadline(c);
	/* Usually the request is already here: no poll needed for it. */
	if (read_in(c)) {
		door_conn_end(c, 0);
		return;
	}
	door_process(c);
}

static void
on_tick_closed(uv_handle_t *h)
{
	free(h->data);
}

void
door_free(struct door *d)
{
	if (!d)
		return;
	while (d->first)
		door_conn_end(d->first, 0);
	uv_close((uv_handle_t *)&d->tick, on_tick_closed);
}
