/* wire.c: writing ready bytes to clients' raw sockets (see wire.h for the
 * path and what it relies on in lws). */
#include "wire.h"

#include "fanout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int
wire_check_library(char *why, size_t len)
{
	const char *v = lws_get_library_version();
	unsigned major = 0, minor = 0;

	if (v && sscanf(v, "%u.%u", &major, &minor) == 2 &&
	    major == WIRE_LWS_MAJOR && minor == WIRE_LWS_MINOR)
		return 0;
	snprintf(why, len,
	         "libwebsockets %s is loaded; tickerd writes to its raw "
	         "sockets as lws %d.%d does, and was not checked against it",
	         v ? v : "(unknown)", WIRE_LWS_MAJOR, WIRE_LWS_MINOR);
	return -1;
}

int
wire_check_context(const struct lws_context_creation_info *info, char *why,
                   size_t len)
{
	const char *what = NULL;

	if (info->extensions)
		what = "WebSocket extensions";
	else if (info->ssl_cert_filepath || info->server_ssl_cert_mem ||
	         (info->options & LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT))
		what = "TLS";
	if (!what)
		return 0;
	snprintf(why, len,
	         "%s would transform the bytes tickerd writes to sockets "
	         "itself; terminate TLS in a proxy in front",
	         what);
	return -1;
}

int
wire_adopted(struct lws *wsi)
{
	return lws_is_ssl(wsi) ? -1 : 0;
}

ssize_t
wire_try(struct lws *wsi, const unsigned char *p, size_t len)
{
	ssize_t n =
	    send(lws_get_socket_fd(wsi), p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n >= 0)
		return n;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0
	                                                                 : -1;
}

int
wire_keep(struct lws *wsi, const unsigned char *p, size_t len)
{
	/* lws_write() takes a non-const buffer; a raw write only reads it. */
	return lws_write(wsi, (unsigned char *)p, len, LWS_WRITE_RAW) < (int)len
	           ? -1
	           : 0;
}

int
wire_holding(struct lws *wsi)
{
	return lws_partial_buffered(wsi) ? 1 : 0;
}

int
wire_write(struct lws *wsi, const unsigned char *p, size_t len)
{
	ssize_t n = 0;

	if (!wire_holding(wsi) && (n = wire_try(wsi, p, len)) < 0)
		return -1;
	if ((size_t)n < len)
		return wire_keep(wsi, p + n, len - (size_t)n);
	return 0;
}

void
wire_want_writeable(struct lws *wsi)
{
	lws_callback_on_writable(wsi);
}

void
wire_close_soon(struct lws *wsi)
{
	lws_set_timeout(wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
	                LWS_TO_KILL_ASYNC);
	/* Outside its own service (our timers, Redis replies) lws 4.1 does
	 * not notice a new timeout until something wakes it: wake it. */
	lws_cancel_service(lws_get_context(wsi));
}

int
wire_unacked(struct lws *wsi)
{
	int n;

	if (ioctl(lws_get_socket_fd(wsi), TIOCOUTQ, &n) < 0)
		return -1;
	return n;
}

/* The fan-out's connections are lws raw sockets. */
static struct lws *
wsi_of(struct fan_conn *conn)
{
	return (struct lws *)conn;
}

static ssize_t
fan_try(struct fan_conn *conn, const unsigned char *p, size_t len)
{
	return wire_try(wsi_of(conn), p, len);
}

static int
fan_keep(struct fan_conn *conn, const unsigned char *p, size_t len)
{
	return wire_keep(wsi_of(conn), p, len);
}

static int
fan_holding(struct fan_conn *conn)
{
	return wire_holding(wsi_of(conn));
}

static void
fan_want_writeable(struct fan_conn *conn)
{
	wire_want_writeable(wsi_of(conn));
}

static void
fan_close_soon(struct fan_conn *conn)
{
	wire_close_soon(wsi_of(conn));
}

static int
fan_unacked(struct fan_conn *conn)
{
	return wire_unacked(wsi_of(conn));
}

const struct fan_ops wire_fan_ops = {
    .try_send = fan_try,
    .keep = fan_keep,
    .holding = fan_holding,
    .want_writeable = fan_want_writeable,
    .close_soon = fan_close_soon,
    .unacked = fan_unacked,
};
