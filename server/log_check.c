/* log_check.c: does the log still hold what was read from it? */
#include "log_check.h"

enum log_verdict
log_judge(const struct log_check *c, struct seq last, unsigned long long last_n)
{
	if (!c->same_epoch)
		return LOG_NEW_DATASET;
	if (c->found)
		return last_n && c->n && c->n != last_n ? LOG_ROLLED_BACK
		                                        : LOG_GOES_ON;
	if (!c->has_top || seq_cmp(c->top, last) < 0)
		return LOG_ROLLED_BACK;
	if (c->has_first && seq_cmp(c->first, last) > 0)
		return LOG_TRIMMED;
	return LOG_ROLLED_BACK;
}

const char *
log_verdict_name(enum log_verdict v)
{
	static const char *const names[] = {"goes on", "new dataset", "trimmed",
	                                    "rolled back"};

	return names[v];
}
