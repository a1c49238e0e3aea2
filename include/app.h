/* app.h: the process's one instance of everything, shared by the modules. */
#ifndef TICKERD_APP_H
#define TICKERD_APP_H

#include "config.h"
#include "ingest.h"

#include <uv.h>

struct changelog;
struct door;
struct feed;
struct files;
struct guard;
struct listener;
struct dead_air;
struct held;
struct redis_where;
struct screens;
struct subscriber;

/* Lives for the whole run. */
struct app {
	struct cfg cfg;
	uv_loop_t loop;
	struct listener *listener;
	struct door *door;   /* connections whose request has not come yet */
	struct files *files; /* the web folder, in memory */
	/* The Content-Security-Policy of every answer (http_csp_build()):
	 * its fixed part, 'self' and up to CFG_ORIGINS_BYTES of origins. */
	char csp[256 + CFG_ORIGINS_BYTES];
	struct redis_where *where; /* the Redis master, followed */
	struct held *held;         /* embargoed items waiting for release */
	struct dead_air *dead_air; /* topics silent too long (--dead-air) */
	struct subscriber *sub;
	struct changelog *log;
	char key_prefix[68]; /* the keys': prefix, or {prefix} on a cluster */
	struct feed *feed;   /* what clients are told of the feed */
	struct guard *guard;
	int argc; /* kept for SIGHUP's reload */
	char **argv;
	struct fan *fan;
	struct history *history;
	struct ingest ingest;
	struct screens *screens; /* the named screens (screens.c) */
	int shutting_down;
};

#endif
