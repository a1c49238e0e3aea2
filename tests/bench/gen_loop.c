/* gen_loop.c: the generator's epoll loop and its publishing schedule. */
#include "clock.h"
#include "gen.h"
#include "gen_clients.h"
#include "gen_publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int tfd = -1;
static uint64_t sched_t0;
static unsigned next_item;

/* When item i is due, on the fixed schedule. */
uint64_t
sched_at(unsigned i)
{
	return sched_t0 + (uint64_t)((double)i * 1e9 / opts.rate);
}

/* Send every item whose time has come; arm the timer for the next. */
static void
publish_due(void)
{
	uint64_t now = now_ns();
	struct itimerspec its = {{0, 0}, {0, 0}};
	uint64_t due;

	while (next_item < opts.items && sched_at(next_item) <= now) {
		pub_item(next_item, sched_at(next_item), PUB_LIVE);
		next_item++;
	}
	if (next_item >= opts.items)
		return;
	due = sched_at(next_item);
	its.it_value.tv_sec = (time_t)(due / NS_PER_S);
	its.it_value.tv_nsec = (long)(due % NS_PER_S);
	timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Wait for events (until deadline at most) and dispatch them. */
static void
loop_once(uint64_t deadline)
{
	static struct epoll_event ev[1024];
	uint64_t now = now_ns(), expirations;
	int timeout = 0, n;

	if (deadline > now)
		timeout = (int)((deadline - now + NS_PER_MS - 1) / NS_PER_MS);
	if (timeout > 100)
		timeout = 100;
	n = epoll_wait(epfd, ev, 1024, timeout);
	if (n < 0 && errno != EINTR) {
		perror("tickbench: epoll_wait");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == TAG_PUB) {
			pub_event(ev[i].events);
		} else if (tag == TAG_TIMER) {
			if (read(tfd, &expirations, sizeof(expirations)) < 0 &&
			    errno != EAGAIN)
				perror("tickbench: timerfd");
			publish_due();
		} else {
			clients_event(tag, ev[i].events);
		}
	}
	clients_pump();
}

/* Run the loop until done() or the deadline; returns done(). */
int
run_until(int (*done)(void), uint64_t deadline)
{
	while (!done() && now_ns() < deadline)
		loop_once(deadline);
	return done();
}

static int
never(void)
{
	return 0;
}

void
run_for(double s)
{
	run_until(never, now_ns() + (uint64_t)(s * 1e9));
}

/* Start the schedule at t0 (a timerfd wakes the loop for each item). */
void
schedule_start(uint64_t t0)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = TAG_TIMER};

	if (tfd < 0) {
		tfd =
		    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	}
	sched_t0 = t0;
	next_item = 0;
	publish_due();
}

unsigned
schedule_sent(void)
{
	return next_item;
}

uint64_t
schedule_t0(void)
{
	return sched_t0;
}
