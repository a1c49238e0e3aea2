/* log_check.h: judging, on reconnecting, whether the change log still
 * holds what this instance read from it. */
#ifndef TICKERD_LOG_CHECK_H
#define TICKERD_LOG_CHECK_H

#include "seq.h"

/* What a reconnected reader found (one GET and three XRANGEs). */
struct log_check {
	int same_epoch;         /* the epoch is the one read before */
	int found;              /* the last entry read is there... */
	unsigned long long n;   /* ...with this number (0: none given) */
	int has_first, has_top; /* the log is not empty */
	struct seq first, top;  /* its first and last ids */
};

enum log_verdict {
	LOG_GOES_ON,     /* read on from where it was */
	LOG_NEW_DATASET, /* Redis lost its data: the new entries come after */
	LOG_TRIMMED,     /* the cap trimmed past it: read on (a gap) */
	LOG_ROLLED_BACK, /* a failover lost entries that were read */
};

/*
 * log_judge() - what c means for a reader whose last entry was last,
 * numbered last_n (0: unknown).  Rolled back: the log ends before last, or
 * holds another entry (another number) at last, or lacks last between its
 * first and last entries.
 */
enum log_verdict log_judge(const struct log_check *c, struct seq last,
                           unsigned long long last_n);

/* log_verdict_name() - for logs and tests. */
const char *log_verdict_name(enum log_verdict v);

#endif
