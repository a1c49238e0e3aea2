/* gen.h: the load generator's shared state (one process, one epoll loop). */
#ifndef BENCH_GEN_H
#define BENCH_GEN_H

#include "hist.h"

#include <stdint.h>
#include <sys/types.h>

/* epoll tags above any client index */
#define TAG_PUB   0xfffffff0u
#define TAG_TIMER 0xfffffff1u

struct gen_opts {
	const char *scenario, *target;
	const char *host; /* server address (IPv4) */
	int port;
	const char *path;  /* WebSocket path, e.g. /ws, or EventSource path */
	int sse;           /* EventSource readers instead of WebSocket */
	int sio;           /* Socket.IO over WebSocket (Engine.IO v4) */
	int greet;         /* frames the server sends before live ones */
	const char *pub;   /* redis:PORT:CHANNEL or http:PORT:PATH */
	pid_t pids[16];    /* the server processes to sample (summed) */
	unsigned npids;    /* 0 = none */
	unsigned procs;    /* generator processes (gen_fork.c), 1 = this */
	unsigned clients;  /* N */
	unsigned items;    /* M */
	double rate;       /* items per second */
	unsigned size;     /* payload bytes */
	unsigned prefill;  /* items published before anyone connects */
	double idle_s;     /* idle CPU measurement, 0 = skip */
	int storm;         /* reconnect every client at once, with since= */
	int resume;        /* the server resumes: since= the last seq seen */
	int resume_greet;  /* greeting messages on a resumed connection */
	unsigned missed;   /* items published while the clients are away */
	unsigned inflight; /* handshakes in progress at once while connecting */
	double drain_s;    /* wait at most this long after the last send */
	double stall_s;    /* ... and stop once nothing arrived for this long */
};

/* Counters and distributions shared by the client and publisher code. */
struct gen_stats {
	uint64_t deliveries; /* item messages received, all clients */
	uint64_t in_order;   /* of which new to their client (seq increased) */
	uint64_t disorder;   /* a seq not above the client's previous one */
	uint64_t complete;   /* clients that have every item */
	uint64_t ready;      /* clients upgraded and greeted */
	uint64_t failed;     /* connections refused, reset or closed */
	uint64_t closed_by_server;
	uint64_t snapshots;        /* snapshot messages received */
	uint64_t last_delivery_ns; /* when the latest item message arrived */
	uint64_t bad_head;         /* responses with the wrong status/type */
	uint64_t sse_comments;     /* EventSource comment lines (keep-alive) */
	uint64_t sse_mismatch;     /* events whose type was not their data's */
	struct hist latency;       /* publish schedule -> receive, ns */
	struct hist ready_time;    /* connect start -> greeted, ns */
};

extern struct gen_opts opts;
extern struct gen_stats stats;
extern int epfd;

/* gen_parse_args() - read the command line into opts (exits on error). */
void gen_parse_args(int argc, char **argv);

/* gen_raise_nofile() - soft fd limit to the hard one; exit if N won't fit. */
void gen_raise_nofile(void);

/* run_until() - run the loop until done() or the deadline; done(). */
int run_until(int (*done)(void), uint64_t deadline);

/* run_for() - run the loop for s seconds. */
void run_for(double s);

/* schedule_start() - publish item i at t0 + i / rate, from the loop. */
void schedule_start(uint64_t t0);

/* sched_at() - when item i is due; schedule_sent() - items sent so far;
 * schedule_t0() - the schedule's start. */
uint64_t sched_at(unsigned i);
unsigned schedule_sent(void);
uint64_t schedule_t0(void);

#endif
