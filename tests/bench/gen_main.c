/*
 * gen_main.c: tickbench, the load generator.  Opens N WebSocket clients
 * (or, with --sse, EventSource readers) to one server, publishes M timestamped
 * items on a fixed schedule, and prints one RESULT line: latencies (schedule ->
 * receive, so a slow server cannot hide its queueing), completeness, and the
 * server's CPU and memory.
 */
#include "clock.h"
#include "gen.h"
#include "gen_clients.h"
#include "gen_fork.h"
#include "gen_publish.h"
#include "procstat.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

struct gen_stats stats;
int epfd;

static int
prefill_acked(void)
{
	return pub_acked() >= opts.prefill;
}

static int
all_connected(void)
{
	return clients_pending() == 0;
}

/*
 * Every client has every item; or everything was sent and nothing has
 * arrived for stall_s (what is missing then was dropped, not late).
 */
static int
delivered_or_stalled(void)
{
	uint64_t now = now_ns(), quiet_since;

	if (stats.complete >= opts.clients && gen_helpers_complete())
		return 1;
	if (schedule_sent() < opts.items)
		return 0;
	quiet_since = sched_at(opts.items - 1);
	if (stats.last_delivery_ns > quiet_since)
		quiet_since = stats.last_delivery_ns;
	if (gen_helpers_last_delivery() > quiet_since)
		quiet_since = gen_helpers_last_delivery();
	return now - quiet_since > (uint64_t)(opts.stall_s * 1e9);
}

/* The server's counters now, summed over its processes (zeros without
 * --pid; a process that is gone counts nothing). */
static struct proc_sample
sample(void)
{
	struct proc_sample s = {0, 0}, one;

	for (unsigned i = 0; i < opts.npids; i++) {
		if (opts.pids[i] <= 0 || proc_sample(opts.pids[i], &one)) {
			fprintf(stderr, "tickbench: server %d is gone\n",
			        (int)opts.pids[i]);
			continue;
		}
		s.cpu_s += one.cpu_s;
		s.rss_kb += one.rss_kb;
	}
	return s;
}

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* Connect everyone (paced); RSS before and after; idle CPU. */
static void
connect_phase(struct proc_sample *before, struct proc_sample *after,
              double *connect_s, double *idle_pct, uint64_t *ready)
{
	uint64_t t;

	*before = sample();
	t = now_ns();
	gen_helpers_go();
	clients_start(opts.path, opts.inflight, 0, (unsigned)opts.greet, 0);
	run_until(all_connected, t + 120 * NS_PER_S);
	run_until(gen_helpers_connected, t + 130 * NS_PER_S);
	*connect_s = (double)(now_ns() - t) / 1e9;
	*ready = stats.ready + gen_helpers_ready();
	fprintf(stderr,
	        "tickbench: %s/%s: %llu of %u clients ready in %.2f s"
	        " (%llu failed here)\n",
	        opts.target, opts.scenario, (unsigned long long)*ready,
	        gen_total_clients(), *connect_s,
	        (unsigned long long)stats.failed);
	run_for(1.0);
	*after = sample();
	if (opts.idle_s > 0) {
		struct proc_sample s;

		run_for(opts.idle_s);
		s = sample();
		*idle_pct = (s.cpu_s - after->cpu_s) / opts.idle_s * 100.0;
	}
}

/*
 * Drop every connection, publish the items they will miss, and reconnect
 * them all at once with since= the last seq they saw.  With --resume a
 * client is back once it has its greeting and every missed item.
 */
static double
storm_phase(void)
{
	const char *since = clients_resume_seq();
	struct proc_sample a, b;
	char path[512];
	uint64_t t;

	snprintf(path, sizeof(path), "%s%csince=%s", opts.path,
	         strchr(opts.path, '?') ? '&' : '?', *since ? since : "0-0");
	stats.ready = stats.snapshots = 0;
	hist_init(&stats.ready_time);
	a = sample();
	clients_close_all();
	t = now_ns();
	for (unsigned i = 0; i < opts.missed; i++)
		pub_item(i, t, PUB_MISSED);
	if (opts.resume)
		clients_start(path, 0, t, (unsigned)opts.resume_greet,
		              opts.missed);
	else /* back once upgraded; a Socket.IO client once it has joined */
		clients_start(path, 0, t, opts.sio ? (unsigned)opts.greet : 0,
		              0);
	run_until(all_connected, t + 60 * NS_PER_S);
	b = sample();
	fprintf(stderr,
	        "tickbench: %s/%s: storm (%s): %llu back, last after %.1f ms, "
	        "%llu snapshots\n",
	        opts.target, opts.scenario, path,
	        (unsigned long long)stats.ready, ms(stats.ready_time.max),
	        (unsigned long long)stats.snapshots);
	run_for(0.5);
	return b.cpu_s - a.cpu_s;
}

/*
 * The item that took longest to reach its last client, with when its first
 * client had it (a late first receipt means the item itself was late: the
 * server was busy or stalled, rather than slow to fan it out).
 */
static void
report_worst_item(void)
{
	uint64_t first, last, wf = 0, wl = 0, sum_first = 0;
	unsigned worst = 0, got = 0;

	for (unsigned i = 0; i < opts.items; i++) {
		clients_item(i, &first, &last);
		gen_helpers_item(i, &first, &last);
		if (!last)
			continue; /* nobody got it */
		got++;
		sum_first += first;
		if (last > wl) {
			wl = last;
			wf = first;
			worst = i;
		}
	}
	printf(" items_never=%u", opts.items - got);
	if (!got)
		return;
	fprintf(stderr,
	        "tickbench: %s/%s: slowest item #%u (sent at +%.3f s): first "
	        "client %.1f ms, last %.1f ms; mean first receipt %.2f ms\n",
	        opts.target, opts.scenario, worst,
	        (double)(sched_at(worst) - schedule_t0()) / 1e9, ms(wf), ms(wl),
	        ms(sum_first / got));
	printf(" worst_item=%u worst_first_ms=%.1f worst_last_ms=%.1f", worst,
	       ms(wf), ms(wl));
}

/* Publish M items on schedule; wait until every client has all of them. */
static void
publish_phase(double *cpu_s, double *wall_s, double *gen_cpu)
{
	struct proc_sample a, b;
	uint64_t last, t0;
	double g0;

	clients_expect(opts.items);
	stats.deliveries = stats.in_order = stats.disorder = 0;
	hist_init(&stats.latency);
	a = sample();
	g0 = gen_cpu_s();
	t0 = now_ns() + 5 * NS_PER_MS;
	schedule_start(t0);
	last = sched_at(opts.items - 1);
	run_until(delivered_or_stalled, last + (uint64_t)(opts.drain_s * 1e9));
	b = sample();
	*gen_cpu = gen_cpu_s() - g0;
	gen_helpers_collect();
	*cpu_s = b.cpu_s - a.cpu_s;
	*wall_s = stats.last_delivery_ns > t0
	              ? (double)(stats.last_delivery_ns - t0) / 1e9
	              : 0.0;
}

int
main(int argc, char **argv)
{
	struct proc_sample before = {0, 0}, after = {0, 0};
	double connect_s = 0, idle_pct = -1, cpu_s = 0, wall_s = 0, gen_cpu = 0;
	uint64_t ready = 0, expected, storm_snapshots = 0;
	double storm_cpu_s = 0;
	struct hist storm;

	gen_parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (gen_fork())
		return 1;
	gen_raise_nofile();
	hist_init(&stats.latency);
	hist_init(&stats.ready_time);
	hist_init(&storm);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || clients_init(opts.clients) ||
	    pub_open(opts.pub, opts.size))
		return 1;

	for (unsigned i = 0; i < opts.prefill; i++)
		pub_item(i, now_ns(), PUB_PREFILL);
	run_until(prefill_acked, now_ns() + 10 * NS_PER_S);
	run_for(opts.prefill ? 0.3 : 0);

	connect_phase(&before, &after, &connect_s, &idle_pct, &ready);
	if (opts.storm) {
		storm_cpu_s = storm_phase();
		storm = stats.ready_time;
		storm_snapshots = stats.snapshots;
	}
	if (opts.items)
		publish_phase(&cpu_s, &wall_s, &gen_cpu);
	gen_helpers_collect();

	expected = (uint64_t)opts.clients * opts.items;
	printf("RESULT scenario=%s target=%s clients=%u items=%u rate=%g "
	       "size=%u ready=%llu failed=%llu closed=%llu connect_s=%.2f "
	       "rss_before_kb=%ld rss_after_kb=%ld rss_per_conn_b=%.0f "
	       "idle_cpu_pct=%.2f",
	       opts.scenario, opts.target, opts.clients, opts.items, opts.rate,
	       opts.size, (unsigned long long)ready,
	       (unsigned long long)stats.failed,
	       (unsigned long long)stats.closed_by_server, connect_s,
	       before.rss_kb, after.rss_kb,
	       ready ? (double)(after.rss_kb - before.rss_kb) * 1024.0 /
	                   (double)ready
	             : 0.0,
	       idle_pct);
	if (opts.storm)
		printf(
		    " storm_ready=%llu storm_snapshots=%llu storm_p50_ms=%.1f "
		    "storm_p99_ms=%.1f storm_max_ms=%.1f storm_cpu_s=%.2f "
		    "storm_us_per_client=%.0f",
		    (unsigned long long)storm.count,
		    (unsigned long long)storm_snapshots,
		    ms(hist_percentile(&storm, 50)),
		    ms(hist_percentile(&storm, 99)), ms(storm.max), storm_cpu_s,
		    storm.count ? storm_cpu_s * 1e6 / (double)storm.count
		                : 0.0);
	if (opts.items)
		printf(" deliveries=%llu expected=%llu complete=%llu "
		       "missing=%llu disorder=%llu pub_errors=%llu "
		       "cpu_s=%.3f us_per_delivery=%.3f "
		       "deliveries_per_cpu_s=%.0f wall_s=%.2f "
		       "p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f "
		       "gen_cpu_s=%.3f",
		       (unsigned long long)stats.deliveries,
		       (unsigned long long)expected,
		       (unsigned long long)stats.complete,
		       (unsigned long long)(expected > stats.in_order
		                                ? expected - stats.in_order
		                                : 0),
		       (unsigned long long)stats.disorder,
		       (unsigned long long)pub_errors(), cpu_s,
		       stats.deliveries ? cpu_s * 1e6 / (double)stats.deliveries
		                        : 0.0,
		       cpu_s > 0 ? (double)stats.deliveries / cpu_s : 0.0,
		       wall_s, ms(hist_percentile(&stats.latency, 50)),
		       ms(hist_percentile(&stats.latency, 99)),
		       ms(hist_percentile(&stats.latency, 99.9)),
		       ms(stats.latency.max), gen_cpu);
	if (opts.items)
		report_worst_item();
	if (opts.sse)
		printf(" proto=sse bad_head=%llu sse_comments=%llu "
		       "sse_mismatch=%llu",
		       (unsigned long long)stats.bad_head,
		       (unsigned long long)stats.sse_comments,
		       (unsigned long long)stats.sse_mismatch);
	if (opts.procs > 1 || opts.npids > 1)
		printf(" gen_procs=%u server_procs=%u", opts.procs, opts.npids);
	printf("\n");
	return 0;
}
