/* redis_node.c: what a Redis node's answers say about it. */
#include "redis_node.h"

#include <string.h>

int
redis_role(const redisReply *r, int *replicas)
{
	const redisReply *role;

	*replicas = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
		return -1;
	role = r->element[0];
	if (role->type != REDIS_REPLY_STRING)
		return -1;
	if (strcmp(role->str, "master"))
		return 0;
	/* ["master", offset, [[ip, port, offset], ...]] */
	if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_ARRAY)
		*replicas = (int)r->element[2]->elements;
	return 1;
}

int
redis_error_moved(const char *err)
{
	static const char *const codes[] = {
	    "READONLY", "NOREPLICAS", "LOADING",     "MASTERDOWN",
	    "MOVED",    "ASK",        "CLUSTERDOWN", "TRYAGAIN",
	};

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		size_t n = strlen(codes[i]);

		if (!strncmp(err, codes[i], n) && (err[n] == ' ' || !err[n]))
			return 1;
	}
	return 0;
}
