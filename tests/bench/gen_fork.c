/*
 * gen_fork.c: tickbench's helpers.  One process holds at most ~19,500
 * sockets here (the fd cap), so --procs K splits the clients over K
 * processes: the first publishes, samples the server and keeps its share;
 * each helper keeps its share on its own epoll loop and reports through a
 * shared page, polled by both sides (the loop wakes every 100 ms at least).
 */
#include "gen_fork.h"

#include "clock.h"
#include "gen.h"
#include "gen_clients.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include "procstat.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A helper's report; the flags are written by one side, read by the other. */
struct slot {
	volatile int go;        /* first process: connect now */
	volatile int connected; /* helper: its clients are up */
	volatile int quit;      /* first process: stop and report */
	volatile int reported;  /* helper: stats and items are filled in */
	volatile uint64_t ready, complete, last_delivery_ns;
	pid_t pid;
	struct gen_stats stats;
};

static struct slot *slots;
static uint64_t *items_first, *items_last; /* [helper][item], ns */
static unsigned nhelpers, total_clients, mine = ~0u;
static int collected;

unsigned
gen_total_clients(void)
{
	return total_clients ? total_clients : opts.clients;
}

static int
connected(void)
{
	return clients_pending() == 0;
}

/* A helper's loop condition: publish progress; stop when told. */
static int
told_to_quit(void)
{
	struct slot *s = &slots[mine];

	s->complete = stats.complete;
	s->last_delivery_ns = stats.last_delivery_ns;
	return s->quit;
}

/* A helper's life: connect, count, report, exit. */
static void
helper_main(void)
{
	struct slot *s = &slots[mine];
	uint64_t first, last;

	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the first process */
	gen_raise_nofile();
	hist_init(&stats.latency);
	hist_init(&stats.ready_time);
	while (!__atomic_load_n(&s->go, __ATOMIC_ACQUIRE))
		usleep(1000); /* until the server's "before" sample is taken */
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || clients_init(opts.clients))
		_exit(1);
	clients_start(opts.path, opts.inflight, 0, (unsigned)opts.greet, 0);
	run_until(connected, now_ns() + 120 * NS_PER_S);
	/* no item is published before every process is connected */
	clients_expect(opts.items);
	s->ready = stats.ready;
	__atomic_store_n(&s->connected, 1, __ATOMIC_RELEASE);
	while (!run_until(told_to_quit, now_ns() + 3600 * NS_PER_S))
		;
	s->stats = stats;
	for (unsigned i = 0; i < opts.items; i++) {
		clients_item(i, &first, &last);
		items_first[(size_t)mine * opts.items + i] = first;
		items_last[(size_t)mine * opts.items + i] = last;
	}
	__atomic_store_n(&s->reported, 1, __ATOMIC_RELEASE);
	_exit(0);
}

int
gen_fork(void)
{
	size_t items = opts.items ? opts.items : 1, sz;
	unsigned share;

	if (opts.procs <= 1)
		return 0;
	nhelpers = opts.procs - 1;
	total_clients = opts.clients;
	share = (opts.clients + opts.procs - 1) / opts.procs;
	sz = nhelpers * (sizeof(*slots) + 2 * items * sizeof(uint64_t));
	slots = mmap(NULL, sz, PROT_READ | PROT_WRITE,
	             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		perror("tickbench: mmap");
		return -1;
	}
	items_first = (uint64_t *)(slots + nhelpers);
	items_last = items_first + nhelpers * items;
	fflush(NULL);
	for (unsigned k = 0; k < nhelpers; k++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("tickbench: fork");
			return -1;
		}
		if (pid == 0) {
			mine = k;
			opts.clients = share;
			helper_main();
		}
		slots[k].pid = pid;
	}
	opts.clients = total_clients - nhelpers * share;
	fprintf(stderr,
	        "tickbench: %u processes: %u clients here, %u in each "
	        "helper\n",
	        opts.procs, opts.clients, share);
	return 0;
}

void
gen_helpers_go(void)
{
	for (unsigned k = 0; k < nhelpers; k++)
		__atomic_store_n(&slots[k].go, 1, __ATOMIC_RELEASE);
}

int
gen_helpers_connected(void)
{
	for (unsigned k = 0; k < nhelpers; k++)
		if (!__atomic_load_n(&slots[k].connected, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

uint64_t
gen_helpers_ready(void)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < nhelpers; k++)
		n += slots[k].ready;
	return n;
}

int
gen_helpers_complete(void)
{
	for (unsigned k = 0; k < nhelpers; k++) {
		unsigned share = (total_clients + opts.procs - 1) / opts.procs;

		if (slots[k].complete < share)
			return 0;
	}
	return 1;
}

uint64_t
gen_helpers_last_delivery(void)
{
	uint64_t t = 0;

	for (unsigned k = 0; k < nhelpers; k++)
		if (slots[k].last_delivery_ns > t)
			t = slots[k].last_delivery_ns;
	return t;
}

void
gen_helpers_collect(void)
{
	if (collected || !nhelpers)
		return;
	collected = 1;
	for (unsigned k = 0; k < nhelpers; k++) {
		struct slot *s = &slots[k];
		struct gen_stats *h = &s->stats;
		int status;

		__atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE);
		if (waitpid(s->pid, &status, 0) < 0 ||
		    !__atomic_load_n(&s->reported, __ATOMIC_ACQUIRE)) {
			fprintf(stderr, "tickbench: helper %u did not report\n",
			        k + 1);
			continue;
		}
		stats.deliveries += h->deliveries;
		stats.in_order += h->in_order;
		stats.disorder += h->disorder;
		stats.complete += h->complete;
		stats.failed += h->failed;
		stats.closed_by_server += h->closed_by_server;
		stats.snapshots += h->snapshots;
		stats.bad_head += h->bad_head;
		if (h->last_delivery_ns > stats.last_delivery_ns)
			stats.last_delivery_ns = h->last_delivery_ns;
		hist_merge(&stats.latency, &h->latency);
		hist_merge(&stats.ready_time, &h->ready_time);
	}
	opts.clients = total_clients;
}

void
gen_helpers_item(unsigned seq, uint64_t *first, uint64_t *last)
{
	if (!opts.items || seq >= opts.items)
		return;
	for (unsigned k = 0; k < nhelpers; k++) {
		uint64_t f = items_first[(size_t)k * opts.items + seq],
		         l = items_last[(size_t)k * opts.items + seq];

		if (!l)
			continue;
		if (!*last || f < *first)
			*first = f;
		if (l > *last)
			*last = l;
	}
}

double
gen_cpu_s(void)
{
	struct proc_sample one;
	double sum = 0;

	if (!proc_sample(getpid(), &one))
		sum += one.cpu_s;
	for (unsigned k = 0; k < nhelpers; k++)
		if (slots[k].pid > 0 && !proc_sample(slots[k].pid, &one))
			sum += one.cpu_s;
	return sum;
}
