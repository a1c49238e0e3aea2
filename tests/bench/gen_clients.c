/*
 * gen_clients.c: many WebSocket clients, or EventSource readers (--sse), on
 * one epoll loop, kept small.
 */
#include "gen_clients.h"

#include "clock.h"
#include "eio.h"
#include "gen.h"
#include "marker.h"
#include "seqcap.h"
#include "sse_rx.h"
#include "ws_rx.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Source addresses 127.0.0.2 .. 127.0.0.(1 + SRC_ADDRS), round robin. */
#define SRC_ADDRS 250

/* tickerd's greeting messages start with this, then "hello" / "snapshot" */
#define TYPE_PREFIX     "{\"type\":\""
#define TYPE_PREFIX_LEN 9

/* An EventSource response must name this type (case aside). */
#define CT_HEADER "content-type:"
#define CT_TYPE   "text/event-stream"

enum cstate { C_IDLE, C_CONNECTING, C_HTTP, C_OPEN, C_DEAD };
/* K_EIO_OPEN and K_PING: a Socket.IO server's (--sio) open packet and ping */
enum mkind {
	K_UNKNOWN,
	K_HELLO,
	K_SNAPSHOT,
	K_ITEM,
	K_OTHER,
	K_EIO_OPEN,
	K_PING
};
/* progress through a header line against CT_HEADER, spaces, CT_TYPE */
enum ctstate { CT_NAME, CT_OWS, CT_VALUE, CT_END, CT_NO };

/* One connection: parse state only, no buffers (about 100 bytes). */
struct client {
	int fd;
	uint8_t state;
	uint8_t http_pos; /* bytes of the status line seen, up to 12 */
	uint8_t http_ok;  /* it said 101 (WebSocket) or 200 (EventSource) */
	uint8_t ct_state; /* enum ctstate, for the header line being read */
	uint8_t ct_pos;   /* bytes of CT_HEADER or CT_TYPE matched */
	uint8_t ct_ok;    /* Content-Type: text/event-stream was seen */
	uint8_t crlf;     /* progress through the blank line */
	uint8_t greets;   /* hello and snapshot messages so far */
	uint8_t ctl_len;
	uint8_t is_ready;
	uint8_t head_pos; /* bytes of the message compared to TYPE_PREFIX */
	uint8_t kind;     /* enum mkind of the message being read */
	union {
		struct ws_rx ws;   /* WebSocket frames */
		struct sse_rx sse; /* or EventSource lines */
	} rx;
	struct marker mk;
	uint32_t received; /* items, in increasing seq */
	int64_t last_seq;
	uint64_t t_start;
	uint8_t *ctl; /* a control frame's payload, allocated on demand */
};

static struct client *cl;
static unsigned ncl, next_start, inflight, max_inflight, expect_m;
static unsigned need_greet, need_items;
static uint64_t ready_t0, now_cached;
static uint64_t *item_first, *item_last; /* per item seq, latency ns */
static struct seqcap seq0;               /* client 0's messages */
static char resume_seq[SEQCAP_MAX + 1];
static char request[1024];
static size_t request_len;
static int sse_mode;            /* EventSource readers, not WebSocket */
static const char *want_status; /* "101" or "200" */
static uint8_t rbuf[1 << 18];

int
clients_init(unsigned n)
{
	cl = calloc(n, sizeof(*cl));
	if (!cl)
		return -1;
	ncl = n;
	for (unsigned i = 0; i < n; i++)
		cl[i].fd = -1;
	return 0;
}

/* Close a connection that failed or was closed by the server. */
static void
fail(struct client *c, int by_server)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (!c->is_ready && c->state != C_DEAD && c->state != C_IDLE)
		inflight--;
	if (by_server && c->is_ready)
		stats.closed_by_server++;
	else
		stats.failed++;
	c->state = C_DEAD;
}

/* Open client i's socket from its own 127.0.0.x and start connecting. */
static void
start_one(unsigned i)
{
	struct client *c = &cl[i];
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct sockaddr_in dst = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = i};
	int one = 1;

	free(c->ctl);
	memset(c, 0, sizeof(*c));
	c->last_seq = -1;
	c->t_start = now_ns();
	c->state = C_CONNECTING;
	inflight++;
	src.sin_addr.s_addr = htonl(0x7f000002u + i % SRC_ADDRS);
	dst.sin_port = htons((uint16_t)opts.port);
	inet_pton(AF_INET, opts.host, &dst.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("tickbench: socket");
		fail(c, 0);
		return;
	}
	setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
	           sizeof(one));
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) ||
	    (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) &&
	     errno != EINPROGRESS) ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		fail(c, 0);
		return;
	}
}

void
clients_start(const char *path, unsigned cap, uint64_t t0, unsigned greet,
              unsigned items)
{
	sse_mode = opts.sse;
	want_status = sse_mode ? "200" : "101";
	if (sse_mode)
		request_len =
		    (size_t)snprintf(request, sizeof(request),
		                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
		                     "Accept: text/event-stream\r\n\r\n",
		                     path, opts.host, opts.port);
	else
		request_len = (size_t)snprintf(
		    request, sizeof(request),
		    "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
		    "Connection: Upgrade\r\n"
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n",
		    path, opts.host, opts.port);
	next_start = 0;
	inflight = 0;
	max_inflight = cap ? cap : ncl;
	ready_t0 = t0;
	need_greet = greet;
	need_items = items;
	seqcap_reset(&seq0);
	clients_pump();
}

void
clients_pump(void)
{
	while (next_start < ncl && inflight < max_inflight)
		start_one(next_start++);
}

unsigned
clients_pending(void)
{
	return ncl - next_start + inflight;
}

const char *
clients_resume_seq(void)
{
	return resume_seq;
}

void
clients_close_all(void)
{
	for (unsigned i = 0; i < ncl; i++) {
		if (cl[i].fd >= 0)
			close(cl[i].fd);
		cl[i].fd = -1;
		cl[i].state = C_IDLE;
	}
	inflight = 0;
}

void
clients_expect(unsigned m)
{
	free(item_first);
	free(item_last);
	item_first = malloc(m * sizeof(*item_first));
	item_last = calloc(m, sizeof(*item_last));
	for (unsigned i = 0; item_first && i < m; i++)
		item_first[i] = UINT64_MAX;
	expect_m = m;
	stats.complete = 0;
	for (unsigned i = 0; i < ncl; i++) {
		cl[i].received = 0;
		cl[i].last_seq = -1;
	}
}

void
clients_item(unsigned seq, uint64_t *first, uint64_t *last)
{
	*first = *last = 0;
	if (seq < expect_m && item_first && item_last &&
	    item_first[seq] != UINT64_MAX) {
		*first = item_first[seq];
		*last = item_last[seq];
	}
}

/* Ready once greeted and caught up: count it and time it. */
static void
check_ready(struct client *c)
{
	if (c->is_ready || c->greets < need_greet || c->received < need_items)
		return;
	c->is_ready = 1;
	inflight--;
	stats.ready++;
	hist_record(&stats.ready_time,
	            now_cached - (ready_t0 ? ready_t0 : c->t_start));
}

/* An item message arrived: its latency against the send schedule. */
static void
deliver(struct client *c, uint32_t seq, uint64_t sent)
{
	uint64_t lat = now_cached > sent ? now_cached - sent : 0;

	stats.deliveries++;
	stats.last_delivery_ns = now_cached;
	hist_record(&stats.latency, lat);
	if (seq < expect_m && item_first && item_last) {
		if (lat < item_first[seq])
			item_first[seq] = lat;
		if (lat > item_last[seq])
			item_last[seq] = lat;
	}
	if ((int64_t)seq <= c->last_seq) {
		stats.disorder++;
		return;
	}
	c->last_seq = seq;
	stats.in_order++;
	if (++c->received == expect_m)
		stats.complete++;
}

/* Tell hello, snapshot and item messages from the rest by their first
 * bytes. */
static void
classify(struct client *c, const uint8_t *p, size_t n)
{
	static const uint8_t of_eio[] = {
	    [EIO_UNKNOWN] = K_UNKNOWN, [EIO_OPEN] = K_EIO_OPEN,
	    [EIO_CONNECT] = K_HELLO,   [EIO_PING] = K_PING,
	    [EIO_EVENT] = K_ITEM,      [EIO_OTHER] = K_OTHER};

	for (size_t i = 0; i < n && c->kind == K_UNKNOWN; i++, c->head_pos++) {
		if (opts.sio) {
			c->kind = of_eio[eio_classify(c->head_pos, p[i])];
		} else if (c->head_pos < TYPE_PREFIX_LEN) {
			if (p[i] != (uint8_t)TYPE_PREFIX[c->head_pos])
				c->kind = K_OTHER;
		} else {
			c->kind = p[i] == 'h'   ? K_HELLO
			          : p[i] == 's' ? K_SNAPSHOT
			          : p[i] == 'i' ? K_ITEM
			                        : K_OTHER;
		}
	}
}

/*
 * Bytes of a message (a WebSocket data frame's payload, an EventSource
 * event's data): its kind, client 0's seq, and the marker of anything but
 * a greeting (a snapshot holds older items' markers).
 */
static void
scan(struct client *c, const uint8_t *p, size_t n)
{
	classify(c, p, n);
	if (c == cl)
		seqcap_feed(&seq0, p, n);
	if (c->kind != K_HELLO && c->kind != K_SNAPSHOT)
		marker_feed(&c->mk, p, n);
}

/* A WebSocket frame's payload bytes: control frames kept, data scanned. */
static void
on_data(void *u, int op, const uint8_t *p, size_t n)
{
	struct client *c = u;

	if (op >= WS_OP_CLOSE) {
		if (!c->ctl)
			c->ctl = malloc(125);
		if (c->ctl && c->ctl_len + n <= 125) {
			memcpy(c->ctl + c->ctl_len, p, n);
			c->ctl_len = (uint8_t)(c->ctl_len + n);
		}
		return;
	}
	scan(c, p, n);
}

/* Answer a ping with a pong carrying the same data (zero mask key). */
static void
send_pong(struct client *c)
{
	uint8_t f[6 + 125] = {0x8a, (uint8_t)(0x80 | c->ctl_len)};

	if (c->ctl_len)
		memcpy(f + 6, c->ctl, c->ctl_len);
	if (send(c->fd, f, 6u + c->ctl_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		fprintf(stderr, "tickbench: pong: %s\n", strerror(errno));
}

/* Forget the message just read: ready to scan the next. */
static void
message_reset(struct client *c)
{
	if (c == cl)
		seqcap_reset(&seq0);
	marker_reset(&c->mk);
	c->kind = K_UNKNOWN;
	c->head_pos = 0;
}

/* A whole message arrived: a greeting, an item, or something else. */
static void
on_message(struct client *c)
{
	if (c->kind == K_EIO_OPEN || c->kind == K_PING) {
		/* Socket.IO: join namespace "/" once open; answer pings */
		if (eio_send(c->fd, c->kind == K_PING ? "3" : "40"))
			fprintf(stderr,
			        "tickbench: client %u: cannot answer "
			        "the Socket.IO server\n",
			        (unsigned)(c - cl));
		c->greets += c->kind == K_EIO_OPEN;
	} else if (c->kind == K_HELLO || c->kind == K_SNAPSHOT) {
		c->greets++;
		stats.snapshots += c->kind == K_SNAPSHOT;
	} else if (c->mk.phase == 3) {
		deliver(c, c->mk.seq, c->mk.ns);
	}
	if (c == cl && seq0.done)
		memcpy(resume_seq, seq0.value, sizeof(resume_seq));
	message_reset(c);
	check_ready(c);
}

static void
on_frame_end(void *u, int op, int fin)
{
	struct client *c = u;

	if (op >= WS_OP_CLOSE) {
		if (op == WS_OP_PING)
			send_pong(c);
		else if (op == WS_OP_CLOSE && c->state == C_OPEN)
			c->state = C_DEAD; /* closed below, once parsed */
		c->ctl_len = 0;
		return;
	}
	if (fin)
		on_message(c);
}

static const struct ws_rx_cb rx_cb = {on_data, on_frame_end};

/* An EventSource event's data bytes: scanned as a message's. */
static void
on_sse_data(void *u, const uint8_t *p, size_t n)
{
	scan(u, p, n);
}

/*
 * An EventSource event ended.  tickerd names each event after its data's
 * "type" (event: item, data: {"type":"item",...}); one that does not is
 * counted and otherwise ignored (its reader then misses the item).
 */
static void
on_sse_event(void *u, const char *type)
{
	struct client *c = u;
	uint8_t kind = !strcmp(type, "hello")      ? K_HELLO
	               : !strcmp(type, "snapshot") ? K_SNAPSHOT
	               : !strcmp(type, "item")     ? K_ITEM
	                                           : K_OTHER;

	if (kind != c->kind) {
		if (!stats.sse_mismatch++)
			fprintf(stderr,
			        "tickbench: client %u: an \"event: %s\" whose "
			        "data is not of that type\n",
			        (unsigned)(c - cl), type);
		message_reset(c);
		return;
	}
	on_message(c);
}

/* A comment line: the server's keep-alive. */
static void
on_sse_comment(void *u)
{
	(void)u;
	stats.sse_comments++;
}

static const struct sse_rx_cb sse_cb = {on_sse_data, on_sse_event,
                                        on_sse_comment};

/* One byte of the response head: is it a Content-Type line naming
 * text/event-stream (parameters after ';' allowed)? */
static void
content_type_byte(struct client *c, uint8_t b)
{
	uint8_t lc = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;

	if (b == '\n') { /* a new header line */
		c->ct_ok |= c->ct_state == CT_END;
		c->ct_state = CT_NAME;
		c->ct_pos = 0;
		return;
	}
	switch (c->ct_state) {
	case CT_NAME:
		if (lc != (uint8_t)CT_HEADER[c->ct_pos])
			c->ct_state = CT_NO;
		else if (!CT_HEADER[++c->ct_pos])
			c->ct_state = CT_OWS;
		return;
	case CT_OWS:
		if (b == ' ' || b == '\t')
			return;
		c->ct_state = CT_VALUE;
		c->ct_pos = 0;
		/* fall through */
	case CT_VALUE:
		if (lc != (uint8_t)CT_TYPE[c->ct_pos])
			c->ct_state = CT_NO;
		else if (!CT_TYPE[++c->ct_pos])
			c->ct_state = CT_END;
		return;
	case CT_END:
		c->ct_ok |= b == '\r' || b == ';' || b == ' ' || b == '\t';
		c->ct_state = CT_NO;
		return;
	default:
		return;
	}
}

/*
 * The response head, a byte range at a time: a 101 for a WebSocket; a 200
 * with Content-Type: text/event-stream for an EventSource reader.  Returns
 * the bytes it used.
 */
static size_t
read_http(struct client *c, const uint8_t *p, size_t n)
{
	static const char blank[] = "\r\n\r\n";
	size_t i;

	for (i = 0; i < n && c->crlf < 4; i++) {
		if (c->http_pos < 12) {
			if (c->http_pos >= 9 &&
			    p[i] != (uint8_t)want_status[c->http_pos - 9])
				c->http_ok = 0;
			else if (c->http_pos == 9)
				c->http_ok = 1;
			c->http_pos++;
		}
		if (sse_mode)
			content_type_byte(c, p[i]);
		if (p[i] == (uint8_t)blank[c->crlf])
			c->crlf++;
		else
			c->crlf = p[i] == '\r';
	}
	if (c->crlf == 4) {
		if (!c->http_ok || (sse_mode && !c->ct_ok)) {
			if (!stats.bad_head++)
				fprintf(stderr,
				        "tickbench: client %u: the response "
				        "was not %s%s\n",
				        (unsigned)(c - cl), want_status,
				        sse_mode ? " with Content-Type: "
				                   "text/event-stream"
				                 : "");
			fail(c, 0);
			return n;
		}
		c->state = C_OPEN;
		check_ready(c);
	}
	return i;
}

/* The socket connected (or not): send the upgrade request. */
static void
on_connected(uint32_t i, struct client *c)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err ||
	    send(c->fd, request, request_len, MSG_NOSIGNAL) !=
	        (ssize_t)request_len ||
	    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev)) {
		fail(c, 0);
		return;
	}
	c->state = C_HTTP;
}

void
clients_event(uint32_t i, uint32_t events)
{
	struct client *c = &cl[i];
	ssize_t n;
	size_t used = 0;

	if (c->state == C_CONNECTING) {
		if (events & (EPOLLERR | EPOLLHUP))
			fail(c, 0);
		else if (events & EPOLLOUT)
			on_connected(i, c);
		return;
	}
	n = recv(c->fd, rbuf, sizeof(rbuf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fail(c, 1);
		return;
	}
	now_cached = now_ns();
	if (c->state == C_HTTP)
		used = read_http(c, rbuf, (size_t)n);
	if (c->state == C_OPEN && used < (size_t)n && sse_mode)
		sse_rx_feed(&c->rx.sse, rbuf + used, (size_t)n - used, &sse_cb,
		            c);
	else if (c->state == C_OPEN && used < (size_t)n)
		ws_rx_feed(&c->rx.ws, rbuf + used, (size_t)n - used, &rx_cb, c);
	if (c->state == C_DEAD && c->fd >= 0) {
		/* The server sent a close frame. */
		c->state = C_OPEN;
		fail(c, 1);
	}
}
