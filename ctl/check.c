/* check.c: tickerctl check: a payload or ninjs file read by item_parse()
 * as tickerd would read it, without publishing; the normalised item out. */
#include "ctl.h"

#include "item.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_MAX (64u << 20) /* past tickerd's limit: item_parse says so */

/*
 * All of f (up to READ_MAX bytes) into a new buffer, NUL-terminated; *len
 * its length.  NULL with errno on failure.  The caller frees it.
 */
static char *
read_all(FILE *f, size_t *len)
{
	size_t cap = 64 * 1024, n = 0, got;
	char *buf = malloc(cap + 1), *bigger;

	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap && cap < READ_MAX) {
			bigger = realloc(buf, cap * 2 + 1);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		} else if (n == cap) {
			break;
		}
	}
	if (buf && (ferror(f) || (n == cap && cap >= READ_MAX))) {
		if (!ferror(f))
			errno = EFBIG;
		free(buf);
		return NULL;
	}
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

/*
 * args[0], a file or "-" for stdin, checked on --topic (else the default):
 * the normalised item on stdout (one line, as clients receive it, without
 * the seq a log entry would give it), or the reason on stderr.
 */
int
ctl_check(struct ctl *c)
{
	const char *name = c->args[0];
	FILE *f = strcmp(name, "-") ? fopen(name, "rb") : stdin;
	json_t *item = NULL;
	size_t len = 0;
	char *payload = f ? read_all(f, &len) : NULL, *out;
	int status;

	if (!payload) {
		ctl_say("%s: %s", strcmp(name, "-") ? name : "stdin",
		        strerror(errno));
		if (f && f != stdin)
			fclose(f);
		return CTL_USAGE;
	}
	if (f != stdin)
		fclose(f);
	status = ctl_validate(ctl_topic(c), payload, len, &item);
	free(payload);
	if (status != CTL_DONE)
		return status;
	json_object_del(item, "seq");
	out = json_dumps(item, JSON_COMPACT);
	json_decref(item);
	if (!out) {
		ctl_say("out of memory");
		return CTL_REFUSED;
	}
	puts(out);
	free(out);
	return CTL_DONE;
}
