/* procstat.h: another process's CPU time and resident memory, from /proc. */
#ifndef BENCH_PROCSTAT_H
#define BENCH_PROCSTAT_H

#include <sys/types.h>

struct proc_sample {
	double cpu_s; /* utime + stime, seconds */
	long rss_kb;  /* VmRSS */
};

/* proc_sample() - read pid's counters now; 0, or -1 if it is gone. */
int proc_sample(pid_t pid, struct proc_sample *s);

#endif
