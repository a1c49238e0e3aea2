/* config.h: tickerd's settings: defaults, --config file, TICKERD_*, flags. */
#ifndef TICKERD_CONFIG_H
#define TICKERD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_ORIGINS   32
#define CFG_ORIGIN_LEN    256
#define CFG_ORIGINS_BYTES 1200 /* all of them, as the CSP lists them */
#define CFG_MAX_PROXIES   32

/* --private-topics: 32 names or prefixes, comma-separated */
#define CFG_PRIVATE_TOPICS_LEN 2200

/* One --trusted-proxy range: an IPv4 or IPv6 network, host bits zero. */
struct cfg_cidr {
	unsigned char addr[16]; /* IPv4 in the first 4 bytes */
	unsigned char bits;     /* prefix length */
	unsigned char v6;
};

#define CFG_MAX_TOPIC_SPANS 32

/* TOPIC=DURATION settings (--topic-ttl, --dead-air): a span per topic. */
struct cfg_topic_spans {
	struct {
		char topic[65];
		uint64_t ms;
	} at[CFG_MAX_TOPIC_SPANS];
	int n;
};

#define CFG_MAX_PUBKEYS   32
#define CFG_PUBKEY_TOPICS 16

/* One --publisher-key: its name, the SHA-256 of the key (never the key),
 * and the topics it may publish to (none listed: every topic). */
struct cfg_pubkey {
	char name[65];
	unsigned char sha256[32];
	char topics[CFG_PUBKEY_TOPICS][65];
	int n_topics;
};

struct cfg_pubkeys {
	struct cfg_pubkey at[CFG_MAX_PUBKEYS];
	int n;
};

/* --publish-rate: n requests per per_ms, a burst of n (token bucket). */
struct cfg_rate {
	unsigned n;
	unsigned per_ms;
};

/* One Redis node's address: TCP host and port, or a unix socket. */
struct redis_addr {
	int is_unix;
	char host[256];
	int port;
	char path[108]; /* sun_path's size */
};

/* How tickerd finds the Redis master it works with. */
enum redis_mode {
	REDIS_DIRECT,   /* redis:// or unix://: the one address given */
	REDIS_SENTINEL, /* sentinel://: ask the sentinels for master_name */
	REDIS_CLUSTER,  /* cluster://: the node owning the slot of its keys */
};

#define REDIS_MAX_NODES 16

/*
 * Where Redis is: redis://[:password@]host:port[/db], unix:///path,
 * sentinel://[:password@]host:port,host:port/name[/db] or
 * cluster://[:password@]host:port,host:port.  nodes: the address
 * (direct), the sentinels, or the cluster nodes to ask first.
 */
struct redis_target {
	enum redis_mode mode;
	struct redis_addr nodes[REDIS_MAX_NODES];
	int n_nodes;
	char master_name[128]; /* sentinel: the master's name */
	int db;
	char password[256]; /* Redis's, not the sentinels' */
};

/*
 * The settings in effect; config.c's table says which bytes each one sets
 * (listen_host..listen_port, redis..redis_url, origins..any_origin,
 * proxies..n_proxies are one setting each: keep them together).
 */
struct cfg {
	char listen_host[256]; /* empty: every interface */
	int listen_port;
	int reuse_port; /* SO_REUSEPORT: several processes on one port */
	struct redis_target redis;
	char redis_url[1200];        /* as given, password hidden: for logs */
	char sentinel_password[256]; /* the sentinels' own, if they have one */
	char prefix[65];
	char web_dir[PATH_MAX];
	unsigned history;
	unsigned log_length; /* change log entries kept; the resume window */
	int log_level;       /* lws LLL_* bitmask */
	char config_file[PATH_MAX]; /* empty: none */
	int proxy_protocol; /* a PROXY header first on every connection */
	struct cfg_topic_spans topic_ttl; /* a default lifetime per topic */
	struct cfg_topic_spans dead_air;  /* silence flagged, per topic */

	/* Who may connect and how much they may do: SIGHUP reloads these. */
	char origins[CFG_MAX_ORIGINS][CFG_ORIGIN_LEN]; /* besides our own */
	int n_origins;
	int any_origin;             /* "*" was listed */
	unsigned max_clients;       /* WebSocket + EventSource, in total */
	unsigned max_per_ip;        /* from one address */
	unsigned max_message;       /* bytes a client may send in one message */
	unsigned max_rate;          /* messages a client may send per second */
	int compress;               /* permessage-deflate, when offered */
	unsigned handshake_timeout; /* seconds to finish the HTTP upgrade */
	unsigned ping_interval; /* seconds idle before a ping; 2x: hang up */
	uint64_t
	    stale_after_ms; /* a named screen this quiet or behind: stale */

	/* Private topics and readers' tokens (access.c, token.c) */
	char private_topics[CFG_PRIVATE_TOPICS_LEN];
	char token_secret[512];
	char token_secret_file[PATH_MAX];
	char token_key[PATH_MAX];
	char token_audience[256];
	char token_issuer[256];
	unsigned token_leeway; /* seconds */

	/* --trusted-proxy: peers whose Forwarded, X-Forwarded-* are believed */
	struct cfg_cidr proxies[CFG_MAX_PROXIES];
	int n_proxies;

	/* The HTTP publish API (api.c): its keys and their rate. */
	struct cfg_pubkeys publishers;
	struct cfg_rate publish_rate;
};

/* Filled by cfg_parse() on failure: the message for stderr. */
struct cfg_error {
	char text[300];
};

enum cfg_result { CFG_RUN = 0, CFG_EXIT_OK = 1, CFG_ERROR = -1 };

/*
 * cfg_parse() - defaults, then the --config file (the last --config flag,
 * else TICKERD_CONFIG), then TICKERD_* variables, then argv's flags.
 * Returns CFG_RUN to start serving, CFG_EXIT_OK when --help, --version,
 * --help-markdown or --print-config printed what was asked, or CFG_ERROR
 * with err filled (the caller exits with status 2).
 */
enum cfg_result cfg_parse(struct cfg *c, int argc, char **argv,
                          struct cfg_error *err);

/*
 * cfg_reload() - parse argc/argv again (with the --config file read anew)
 * and copy the settings SIGHUP applies (origins and limits) into c.
 * Returns 0, or -1 with err filled and c unchanged.
 */
int cfg_reload(struct cfg *c, int argc, char **argv, struct cfg_error *err);

/*
 * cfg_describe() - "name=value ..." for the log: the settings SIGHUP
 * applies (reloadable 1) or the others; passwords hidden, long values cut.
 */
void cfg_describe(const struct cfg *c, int reloadable, char *buf, size_t len);

/* cfg_parse_redis_url() - read a Redis URL into t; 0, or -1 with err. */
int cfg_parse_redis_url(const char *url, struct redis_target *t,
                        struct cfg_error *err);

/* cfg_parse_listen() - read HOST:PORT or [V6]:PORT; 0, or -1 with err. */
int cfg_parse_listen(const char *s, struct cfg *c, struct cfg_error *err);

/* cfg_topic_span() - topic's span in spans (ms), or 0 if it has none. */
uint64_t cfg_topic_span(const struct cfg_topic_spans *spans, const char *topic);

/* cfg_origin_allowed() - 1 if origin is listed (or "*" was). */
int cfg_origin_allowed(const struct cfg *c, const char *origin);

#endif
