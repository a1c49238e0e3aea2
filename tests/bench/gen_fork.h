/* gen_fork.h: tickbench over several processes (--procs K), for more
 * clients than one process may hold file descriptors for. */
#ifndef BENCH_GEN_FORK_H
#define BENCH_GEN_FORK_H

#include <stdint.h>

/*
 * gen_fork() - with opts.procs > 1, fork opts.procs - 1 helpers, each with
 * its share of the clients (opts.clients becomes this process's share;
 * gen_total_clients() is the whole).  A helper connects its clients, counts
 * what they receive as the first process's clients do, and reports through
 * shared memory; it never returns from here.  The first process publishes,
 * samples the server, and has its own share of clients.  0, or -1.
 */
int gen_fork(void);

/* gen_total_clients() - clients over every process. */
unsigned gen_total_clients(void);

/* gen_helpers_go() - let the helpers start connecting. */
void gen_helpers_go(void);

/* gen_helpers_connected() - every helper has connected its clients (or
 * given up on some); its ready count is then in helpers_ready(). */
int gen_helpers_connected(void);
uint64_t gen_helpers_ready(void);

/* gen_helpers_complete() - every helper's clients have every item. */
int gen_helpers_complete(void);

/* gen_helpers_last_delivery() - the latest receipt of any helper, ns. */
uint64_t gen_helpers_last_delivery(void);

/*
 * gen_helpers_collect() - tell the helpers to stop, wait for them, and add
 * their counts and latencies into stats.  Once only.
 */
void gen_helpers_collect(void);

/* gen_helpers_item() - widen item seq's first and last latency (ns; 0 =
 * nobody had it) with what the helpers saw. */
void gen_helpers_item(unsigned seq, uint64_t *first, uint64_t *last);

/* gen_cpu_s() - this process's and its helpers' CPU time so far (s). */
double gen_cpu_s(void);

#endif
