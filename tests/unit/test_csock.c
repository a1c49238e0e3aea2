/* test_csock.c: client sockets (csock.c) on a real loop, over socketpairs:
 * what the peer sends reaches rx; a write the socket cannot take is kept
 * and arrives whole and in order, and the owner is called once there is
 * room; a close soon waits for the loop, a close later for its time; the
 * owner hears of every close exactly once. */
#include "unit.h"

#include "app.h"
#include "csock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

/* What a test's owner saw. */
struct owner {
	unsigned char got[64];
	size_t got_len;
	int writeables, closes;
	int close_soon_on_rx; /* ask for a close soon when data comes */
};

static int
on_rx(struct csock *s, const unsigned char *p, size_t len)
{
	struct owner *o = csock_owner(s);

	if (o->got_len + len <= sizeof(o->got)) {
		memcpy(o->got + o->got_len, p, len);
		o->got_len += len;
	}
	if (o->close_soon_on_rx)
		csock_close_soon(s);
	return 0;
}

static int
on_writeable(struct csock *s)
{
	struct owner *o = csock_owner(s);

	o->writeables++;
	return 0;
}

/* The owner data goes with the csock: what a test checks after the close
 * is copied out here first. */
static struct owner last_closed;

static void
on_closed(struct csock *s)
{
	struct owner *o = csock_owner(s);

	o->closes++;
	last_closed = *o;
}

static const struct csock_handler handler = {
    .rx = on_rx,
    .writeable = on_writeable,
    .closed = on_closed,
};

static struct app app;

/* A csock on one end of a socketpair (a send buffer of sndbuf bytes, 0:
 * the default); the other end in *peer. */
static struct csock *
open_pair(int *peer, int sndbuf)
{
	int fds[2];
	struct csock *s;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	if (sndbuf)
		setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf,
		           sizeof(sndbuf));
	s = csock_open(&app, fds[0], &handler, sizeof(struct owner));
	assert_non_null(s);
	*peer = fds[1];
	return s;
}

/* Turn the loop n times without waiting. */
static void
turn(int n)
{
	while (n--)
		uv_run(&app.loop, UV_RUN_NOWAIT);
}

static int
setup(void **state)
{
	(void)state;
	memset(&app, 0, sizeof(app));
	memset(&last_closed, 0, sizeof(last_closed));
	return uv_loop_init(&app.loop);
}

static int
teardown(void **state)
{
	(void)state;
	csock_close_all(&app);
	uv_run(&app.loop, UV_RUN_DEFAULT); /* the handles' close callbacks */
	assert_int_equal(uv_loop_close(&app.loop), 0);
	return 0;
}

static void
test_rx_then_peer_leaves(void **state)
{
	int peer;
	struct csock *s = open_pair(&peer, 0);
	struct owner *o = csock_owner(s);

	(void)state;
	assert_ptr_equal(csock_of(o), s);
	assert_int_equal(write(peer, "hello", 5), 5);
	turn(3);
	assert_int_equal(o->got_len, 5);
	assert_memory_equal(o->got, "hello", 5);
	assert_int_equal(o->closes, 0);
	close(peer);
	turn(3);
	assert_int_equal(last_closed.closes, 1);
	assert_int_equal(last_closed.got_len, 5);
}

static void
test_kept_bytes_arrive_in_order(void **state)
{
	enum { TOTAL = 1 << 20 };
	unsigned char *out = malloc(TOTAL), *in = malloc(TOTAL);
	size_t got = 0;
	int peer, small = 4096;
	struct csock *s;
	struct owner *o;

	(void)state;
	for (size_t i = 0; i < TOTAL; i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	s = open_pair(&peer, small);
	o = csock_owner(s);
	/* Two writes: the second goes behind what the first left kept. */
	assert_int_equal(csock_write(s, out, TOTAL / 2), 0);
	assert_true(csock_holding(s));
	assert_int_equal(csock_write(s, out + TOTAL / 2, TOTAL / 2), 0);
	assert_true(csock_unacked(s) >= 0);
	fcntl(peer, F_SETFL, O_NONBLOCK);
	for (int spins = 0; got < TOTAL && spins < 100000; spins++) {
		ssize_t n = read(peer, in + got, TOTAL - got);

		if (n > 0)
			got += (size_t)n;
		else
			assert_true(n < 0 && errno == EAGAIN);
		turn(1);
	}
	assert_int_equal(got, TOTAL);
	assert_memory_equal(in, out, TOTAL);
	turn(2);
	assert_false(csock_holding(s));
	/* Room came once the kept bytes were out: the owner had its turn. */
	assert_true(o->writeables >= 1);
	/* And asked for, it comes again. */
	o->writeables = 0;
	csock_want_writeable(s);
	turn(2);
	assert_int_equal(o->writeables, 1);
	turn(2);
	assert_int_equal(o->writeables, 1); /* not asked again: not called */
	close(peer);
	free(out);
	free(in);
}

static void
test_close_soon_waits_for_the_loop(void **state)
{
	int peer;
	struct csock *s = open_pair(&peer, 0);
	struct owner *o = csock_owner(s);

	(void)state;
	o->close_soon_on_rx = 1;
	assert_int_equal(write(peer, "x", 1), 1);
	turn(1); /* rx asks for the close: not inside its own call */
	assert_int_equal(o->got_len, 1);
	assert_int_equal(o->closes, 0);
	csock_close_soon(s); /* twice is once */
	turn(3);
	assert_int_equal(last_closed.closes, 1);
	close(peer);
}

static void
test_close_later_and_close_all(void **state)
{
	int peer1, peer2;
	struct csock *a = open_pair(&peer1, 0);
	struct owner *oa = csock_owner(a);

	(void)state;
	open_pair(&peer2, 0);
	csock_close_after(a, 1);
	turn(3);
	assert_int_equal(oa->closes, 0); /* not yet: a second to go */
	uv_run(&app.loop, UV_RUN_ONCE);  /* waits for the timer */
	while (last_closed.closes == 0)
		uv_run(&app.loop, UV_RUN_ONCE);
	assert_int_equal(last_closed.closes, 1);
	/* The other is still open: close_all ends it, once. */
	memset(&last_closed, 0, sizeof(last_closed));
	csock_close_all(&app);
	assert_int_equal(last_closed.closes, 1);
	close(peer1);
	close(peer2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rx_then_peer_leaves, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_kept_bytes_arrive_in_order,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_soon_waits_for_the_loop,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_later_and_close_all,
	                                    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
