/* sentinel.c: where a sentinel:// URL's master is, asked of its sentinels
 * in turn (SENTINEL get-master-addr-by-name), once per connection. */
#include "ctl.h"

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SENTINEL_TIMEOUT_S 3

/*
 * Ask the sentinel at a for master's address: 0 with host and port set, or
 * -1 with why[] filled.
 */
static int
ask_one(const struct ctl *c, const struct redis_addr *a, const char *master,
        struct redis_addr *out, char *why, size_t why_len)
{
	struct timeval tv = {SENTINEL_TIMEOUT_S, 0};
	redisContext *rc = redisConnectWithTimeout(a->host, a->port, tv);
	redisReply *r = NULL;
	int ok = 0;

	if (rc && !rc->err && redisSetTimeout(rc, tv) == REDIS_OK &&
	    c->sentinel_password)
		freeReplyObject(
		    redisCommand(rc, "AUTH %s", c->sentinel_password));
	if (rc && !rc->err)
		r = redisCommand(rc, "SENTINEL get-master-addr-by-name %s",
		                 master);
	if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_STRING &&
	    r->element[1]->type == REDIS_REPLY_STRING &&
	    strlen(r->element[0]->str) < sizeof(out->host)) {
		memset(out, 0, sizeof(*out));
		strcpy(out->host, r->element[0]->str);
		out->port = atoi(r->element[1]->str);
		ok = out->port > 0 && out->port < 65536;
	}
	if (!ok)
		snprintf(why, why_len, "sentinel %s:%d: %s", a->host, a->port,
		         !rc || rc->err ? (rc ? rc->errstr : "cannot connect")
		         : r && r->type == REDIS_REPLY_ERROR
		             ? r->str
		             : "does not know that master");
	freeReplyObject(r);
	if (rc)
		redisFree(rc);
	return ok ? 0 : -1;
}

int
ctl_ask_sentinels(const struct ctl *c, struct redis_target *t)
{
	struct redis_addr master;
	char why[400] = "";

	for (int i = 0; i < t->n_nodes; i++)
		if (!ask_one(c, &t->nodes[i], t->master_name, &master, why,
		             sizeof(why))) {
			t->nodes[0] = master;
			t->n_nodes = 1;
			t->mode = REDIS_DIRECT;
			return CTL_DONE;
		}
	if (!c->quiet)
		ctl_say("Redis at %s: no sentinel gave the address of master "
		        "%s (last: %s)",
		        c->redis_url, t->master_name, why);
	return CTL_UNREACHABLE;
}
