/* gen_args.c: tickbench's command line and process limits. */
#include "gen.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct gen_opts opts = {
    .scenario = "run",
    .target = "server",
    .host = "127.0.0.1",
    .path = "/ws",
    .inflight = 256,
    .rate = 5,
    .size = 200,
    .drain_s = 90,
    .stall_s = 5,
    .resume_greet = 1,
    .procs = 1,
};

static const struct option longopts[] = {
    {"scenario", required_argument, NULL, 'S'},
    {"target", required_argument, NULL, 'T'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"path", required_argument, NULL, 'P'},
    {"sse", no_argument, NULL, 'e'},
    {"sio", no_argument, NULL, 'o'},
    {"greet", required_argument, NULL, 'g'},
    {"pub", required_argument, NULL, 'b'},
    {"pid", required_argument, NULL, 'k'},
    {"clients", required_argument, NULL, 'n'},
    {"items", required_argument, NULL, 'm'},
    {"rate", required_argument, NULL, 'r'},
    {"size", required_argument, NULL, 's'},
    {"prefill", required_argument, NULL, 'f'},
    {"idle", required_argument, NULL, 'i'},
    {"storm", no_argument, NULL, 'x'},
    {"resume", no_argument, NULL, 'R'},
    {"resume-greet", required_argument, NULL, 'G'},
    {"missed", required_argument, NULL, 'M'},
    {"inflight", required_argument, NULL, 'c'},
    {"drain", required_argument, NULL, 'd'},
    {"stall", required_argument, NULL, 'l'},
    {"procs", required_argument, NULL, 'K'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
usage(int status)
{
	fprintf(
	    status ? stderr : stdout,
	    "usage: tickbench --port P --pub redis:PORT:CHANNEL|http:PORT:"
	    "PATH --clients N\n"
	    "  [--items M --rate R --size B] [--pid SERVER_PID] [--path "
	    "/ws] [--greet G]\n"
	    "  [--sse] (EventSource readers: GET --path, e.g. "
	    "/events?topics=bench)\n"
	    "  [--sio] (Socket.IO clients: --path "
	    "'/socket.io/?EIO=4&transport=websocket', --greet 2)\n"
	    "  [--prefill K] [--idle S] [--inflight K] [--drain S] [--stall "
	    "S]\n"
	    "  [--storm [--missed K] [--resume [--resume-greet G]]]\n"
	    "  [--scenario NAME --target NAME]\n"
	    "  [--procs K] (the clients spread over K processes; --pid "
	    "PID,PID,... sums servers)\n");
	exit(status);
}

/* Read the command line into opts. */
void
gen_parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'S':
			opts.scenario = optarg;
			break;
		case 'T':
			opts.target = optarg;
			break;
		case 'H':
			opts.host = optarg;
			break;
		case 'p':
			opts.port = atoi(optarg);
			break;
		case 'P':
			opts.path = optarg;
			break;
		case 'e':
			opts.sse = 1;
			break;
		case 'o':
			opts.sio = 1;
			break;
		case 'g':
			opts.greet = atoi(optarg);
			break;
		case 'b':
			opts.pub = optarg;
			break;
		case 'k':
			for (char *p = optarg; *p && opts.npids < 16;
			     p += strcspn(p, ","), p += *p == ',')
				opts.pids[opts.npids++] = (pid_t)atoi(p);
			break;
		case 'K':
			opts.procs = (unsigned)atoi(optarg);
			break;
		case 'n':
			opts.clients = (unsigned)atoi(optarg);
			break;
		case 'm':
			opts.items = (unsigned)atoi(optarg);
			break;
		case 'r':
			opts.rate = atof(optarg);
			break;
		case 's':
			opts.size = (unsigned)atoi(optarg);
			break;
		case 'f':
			opts.prefill = (unsigned)atoi(optarg);
			break;
		case 'i':
			opts.idle_s = atof(optarg);
			break;
		case 'x':
			opts.storm = 1;
			break;
		case 'R':
			opts.resume = 1;
			break;
		case 'G':
			opts.resume_greet = atoi(optarg);
			break;
		case 'M':
			opts.missed = (unsigned)atoi(optarg);
			break;
		case 'c':
			opts.inflight = (unsigned)atoi(optarg);
			break;
		case 'd':
			opts.drain_s = atof(optarg);
			break;
		case 'l':
			opts.stall_s = atof(optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (!opts.port || !opts.pub || !opts.clients || opts.rate <= 0 ||
	    opts.greet < 0 || opts.greet > 255 || opts.procs < 1 ||
	    (opts.procs > 1 && (opts.storm || opts.prefill)))
		usage(2);
}

/* Soft fd limit up to the hard one; refuse more clients than fit. */
void
gen_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (opts.clients + 32 > rl.rlim_cur) {
		fprintf(stderr,
		        "tickbench: %u clients need more than the %llu fds a "
		        "process may open here\n",
		        opts.clients, (unsigned long long)rl.rlim_cur);
		exit(2);
	}
}
