/* config.c: the table of settings, and where their values come from. */
#include "config.h"

#include "config_docs.h"
#include "config_kinds.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where make install puts tickerd's files (the Makefile sets them). */
#ifndef TICKERD_DATA_DIR
#define TICKERD_DATA_DIR "/usr/local/share/tickerd"
#endif
#ifndef TICKERD_CONF_DIR
#define TICKERD_CONF_DIR "/usr/local/etc/tickerd"
#endif
#define TICKERD_WEB_DIR TICKERD_DATA_DIR "/web"

#define LOG_VALUE 60 /* a longer value is cut in log lines */

/* The bytes of struct cfg one field takes, or fields a to b together. */
#define AT(f) offsetof(struct cfg, f), sizeof(((struct cfg *)0)->f)
#define SPAN(a, b)                                                             \
	offsetof(struct cfg, a), offsetof(struct cfg, b) +                     \
	                             sizeof(((struct cfg *)0)->b) -            \
	                             offsetof(struct cfg, a)
#define UINT(min, max) &cfg_kind_uint, min, max
#define KIND(k)        &cfg_kind_##k, 0, 0
#define DEF(text)      text, NULL
#define NO_DEF         NULL, NULL

/*
 * Every setting, once: its flags, its TICKERD_<NAME> variable and its line
 * in the --config file are named after it; --help, the README's table and
 * the reload all come from here.  Those marked CFG_RELOAD are copied into
 * the running server on SIGHUP (their users read them live).
 */
static const struct cfg_setting settings[] = {
    {"listen", 'l', "HOST:PORT", KIND(listen), DEF("127.0.0.1:8080"),
     SPAN(listen_host, listen_port), 0,
     "address to serve on: IPv4, `[IPv6]`, `localhost`, or `*` for all"},
    {"reuse-port", 0, "[=no]", KIND(switch), DEF("no"), AT(reuse_port), 0,
     "share the port with other tickerd processes (`SO_REUSEPORT`): the "
     "kernel spreads new connections over them; see \"Several processes "
     "per machine\" in the README"},
    {"redis", 'r', "URL", KIND(redis), DEF("redis://127.0.0.1:6379"),
     SPAN(redis, redis_url), 0,
     "`redis://[:password@]host[:port][/db]`, `unix:///path.sock`, "
     "`sentinel://[:password@]host,host/NAME[/db]` (the master the "
     "sentinels call NAME, followed through failovers; ports default to "
     "26379) or `cluster://[:password@]host,host` (a Redis Cluster: keys "
     "become `{prefix}:log`...); hosts as `host:port`; the password is "
     "Redis's; Redis 7 or later"},
    {"sentinel-password", 0, "PASSWORD", KIND(secret), NO_DEF,
     AT(sentinel_password), 0,
     "the sentinels' own password (`requirepass` in sentinel.conf), when "
     "they have one"},
    {"prefix", 'p', "NAME", KIND(name), DEF("ticker"), AT(prefix), 0,
     "subscribes to `NAME:*` (the channel's suffix is the item's topic); "
     "the change log is `NAME:log` (`{NAME}:log` on a Redis Cluster)"},
    {"web", 'w', "DIR", KIND(path), TICKERD_WEB_DIR,
     "$(PREFIX)/share/tickerd/web", AT(web_dir), 0,
     "the front-end served at `/`; SIGHUP reads its files again"},
    {"history", 'n', "N", UINT(1, 10000), DEF("50"), AT(history), 0,
     "recent items kept per topic"},
    {"log-length", 'N', "N", UINT(1, 1000000), DEF("10000"), AT(log_length), 0,
     "entries kept in the change log `<prefix>:log`, and how far back "
     "clients can resume"},
    {"log-level", 'L', "LEVEL", KIND(level), DEF("notice"), AT(log_level), 0,
     "`error`, `warn`, `notice`, `info` or `debug`"},
    {"config", 'c', "FILE", KIND(path), NO_DEF, AT(config_file), CFG_SOURCE,
     "`name = value` lines (names as the long options, `#` comments), "
     "read before the environment; SIGHUP reads it again"},
    {"allow-origin", 0, "ORIGIN", KIND(origins), NO_DEF,
     SPAN(origins, any_origin), CFG_RELOAD,
     "page origins (`https://news.example`) allowed to open `/ws` and "
     "`/events` besides tickerd's own; repeat or comma-separate (the "
     "file's, the variable's and the flags' add up); `*` = any; "
     "1,200 bytes in all"},
    {"trusted-proxy", 0, "CIDR", KIND(cidrs), NO_DEF, SPAN(proxies, n_proxies),
     CFG_RELOAD,
     "proxies (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`) whose `Forwarded` or "
     "else `X-Forwarded-For`, `-Proto` and `-Host` headers name the client: "
     "its address for limits and logs, the host and scheme its page's "
     "Origin must match; from other peers they are ignored; repeat or "
     "comma-separate, the file's, the variable's and the flags' add up; "
     "at most 32"},
    {"proxy-protocol", 0, "[=no]", KIND(switch), DEF("no"), AT(proxy_protocol),
     0,
     "every connection begins with a PROXY protocol header, v1 or v2 "
     "(HAProxy's `send-proxy`, nginx's `proxy_protocol on`) naming the "
     "client; one without it is closed; for a listener only proxies reach; "
     "SIGHUP leaves it as it was started"},
    {"topic-ttl", 0, "TOPIC=DURATION", KIND(topic_spans), NO_DEF, AT(topic_ttl),
     0,
     "items of TOPIC leave the screens DURATION (`90s`, `30m`, `6h`, `2d`) "
     "after their time unless they say when (`expires`): a strap that "
     "clears itself; repeat or comma-separate, at most 32 topics"},
    {"dead-air", 0, "TOPIC=DURATION", KIND(topic_spans), NO_DEF, AT(dead_air),
     0,
     "flag TOPIC when it has had no item for DURATION (`2h`): a log line "
     "once, `tickerd_dead_air{topic}` in `/metrics`, so a desk notices a "
     "strap that has said nothing since the morning; repeat or "
     "comma-separate, at most 32 topics"},
    {"private-topics", 0, "TOPICS", KIND(path), NO_DEF, AT(private_topics), 0,
     "topics only a reader holding a valid token (`?token=` on `/ws` and "
     "`/events`, or a token message) may receive: exact names, or a prefix "
     "ending in `*` (`insider-*`); comma-separated, at most 32; see "
     "\"Private topics and tokens\" in the README"},
    {"token-secret", 0, "SECRET", KIND(secret), NO_DEF, AT(token_secret), 0,
     "the HS256 secret readers' tokens are signed with"},
    {"token-secret-file", 0, "FILE", KIND(path), NO_DEF, AT(token_secret_file),
     0,
     "the HS256 secret, read from FILE (a trailing newline is not part of "
     "it)"},
    {"token-key", 0, "FILE", KIND(path), NO_DEF, AT(token_key), 0,
     "a PEM public key that readers' tokens are verified with: RS256 for "
     "an RSA key, ES256 for an EC P-256 key (no other algorithm is taken)"},
    {"token-audience", 0, "AUD", KIND(path), NO_DEF, AT(token_audience), 0,
     "a token's `aud` must be (or list) AUD"},
    {"token-issuer", 0, "ISS", KIND(path), NO_DEF, AT(token_issuer), 0,
     "a token's `iss` must be ISS"},
    {"token-leeway", 0, "S", UINT(0, 300), DEF("30"), AT(token_leeway), 0,
     "seconds of clock difference allowed for a token's `exp` and `nbf`"},
    {"max-clients", 0, "N", UINT(1, 1000000), DEF("20000"), AT(max_clients),
     CFG_RELOAD, "WebSocket + EventSource clients in total; beyond: HTTP 503"},
    {"max-per-ip", 0, "N", UINT(1, 1000000), DEF("500"), AT(max_per_ip),
     CFG_RELOAD,
     "clients from one address (beyond: HTTP 429), and connections from "
     "it whose request has not arrived yet (beyond: closed)"},
    {"max-message", 0, "BYTES", UINT(16, 1048576), DEF("4096"), AT(max_message),
     CFG_RELOAD, "largest message a client may send; larger: close 1009"},
    {"max-rate", 0, "N", UINT(1, 100000), DEF("20"), AT(max_rate), CFG_RELOAD,
     "frames a client may send per second (messages, fragments, pings, pongs); "
     "more: close 1008"},
    {"compress", 0, "[=no]", KIND(switch), DEF("yes"), AT(compress), CFG_RELOAD,
     "WebSocket clients that offer `permessage-deflate` get each message "
     "compressed, once per message for all of them (no zlib state per "
     "client); others get it as it is; see \"Caching and compression\" in "
     "the README"},
    {"handshake-timeout", 0, "S", UINT(1, 3600), DEF("10"),
     AT(handshake_timeout), CFG_RELOAD,
     "seconds to send a whole HTTP request (and take its answer), on a "
     "new or kept-alive connection (slowloris)"},
    {"ping-interval", 0, "S", UINT(1, 3600), DEF("30"), AT(ping_interval),
     CFG_RELOAD,
     "WebSocket ping after S idle seconds; hang up after twice that "
     "without a pong"},
    {"publisher-key", 0, "NAME=sha256:HEX[:TOPICS]", KIND(pubkeys), NO_DEF,
     AT(publishers), CFG_RELOAD,
     "a key for `POST /api/items` (see \"The HTTP publish API\" in the "
     "README): its name (kept in the log entry of what it publishes), the "
     "SHA-256 of the key in hex (`printf %s \"$KEY\" | sha256sum`; the key "
     "itself is never stored) and the topics it may publish to, "
     "comma-separated (none: every topic); repeat, or separate keys with "
     "blanks; at most 32"},
    {"publish-rate", 0, "N/s|N/m", KIND(rate), DEF("20/s"), AT(publish_rate),
     CFG_RELOAD,
     "publishes (`POST /api/items`) one publisher key may make per second "
     "(`N/s`) or minute (`N/m`), in bursts of up to N; beyond: HTTP 429 "
     "with `Retry-After`"},
    {"stale-after", 0, "DURATION", KIND(span), DEF("30s"), AT(stale_after_ms),
     CFG_RELOAD,
     "a named screen (see \"Screen health\" in the README) that sends no "
     "report for DURATION (`30s`, `2m`; 1 s to a day), or has not drawn a "
     "message of its topics logged that long ago, is stale: logged, "
     "counted, shown in `/screens`"},
};

#define N_SETTINGS (sizeof(settings) / sizeof(settings[0]))

/* The flags that do something instead of setting something. */
enum action {
	PRINT_CONFIG,
	HELP,
	VERSION,
	HELP_MARKDOWN,
	HELP_MAN,
	HELP_CONFIG,
	N_ACTIONS
};

static const struct {
	const char *name;
	char flag;
	const char *help; /* NULL: not in --help (the README has it) */
} actions[N_ACTIONS] = {
    [PRINT_CONFIG] = {"print-config", 0,
                      "print the settings in effect as a --config file "
                      "(the Redis password too) and exit"},
    [HELP] = {"help", 'h', "show this help and exit"},
    [VERSION] = {"version", 'V', "show the version and exit"},
    [HELP_MARKDOWN] = {"help-markdown", 0, NULL},
    [HELP_MAN] = {"help-man", 0, NULL},
    [HELP_CONFIG] = {"help-config", 0, NULL},
};

#define N_OPTIONS (N_SETTINGS + N_ACTIONS)

static const char help_head[] =
    "Usage: tickerd [OPTION]...\n"
    "Serve live news headlines from Redis to WebSocket and EventSource "
    "screens.\n"
    "\n"
    "Each setting is a flag, a TICKERD_<NAME> variable and a \"name = "
    "value\" line\n"
    "of the --config file: a variable beats the file, a flag beats both.\n";

static const char help_tail[] =
    "\n"
    "Publish:         redis-cli PUBLISH ticker:breaking \"Headline\"\n"
    "Durably, even with no tickerd running:\n"
    "  redis-cli FCALL tickerd_record 2 ticker:log ticker:seen breaking "
    "\"Headline\"\n"
    "HTTP: / (front-end), /healthz (JSON status), /metrics (Prometheus),\n"
    "  /ws?topics=a,b&since=SEQ (WebSocket), /events?topics=a,b "
    "(EventSource),\n"
    "  /items.json?topics=a,b (the items, JSON), /feed.atom?topics=a,b "
    "(Atom),\n"
    "  /screens (named screens' health, JSON).\n"
    "Exit status: 0 on SIGINT/SIGTERM, 1 if serving fails, 2 for bad "
    "usage.\n";

/* One parse of the settings: what it fills, and what it has seen. */
struct parse {
	struct cfg *c;
	struct cfg_error *err;
	const char *config;            /* the last --config flag, or NULL */
	int print_config;              /* --print-config was given */
	unsigned char set[N_SETTINGS]; /* given somewhere, not defaulted */
};

/* Where a value came from, for its error message. */
enum from { FROM_FLAG, FROM_DEFAULT, FROM_FILE, FROM_ENV };

/*
 * Parse text into setting i and note it as given (not a default).  0, or
 * -1 with err, which names where (file:line, or the variable) if not a flag.
 */
static int
apply(struct parse *p, size_t i, const char *text, enum from from,
      const char *where)
{
	char why[sizeof(p->err->text)];

	if (!settings[i].kind->parse(p->c, &settings[i], text, p->err)) {
		p->set[i] = from != FROM_DEFAULT;
		return 0;
	}
	snprintf(why, sizeof(why), "%s", p->err->text);
	if (from == FROM_ENV)
		return cfg_fail(p->err, "%s (from %s)", why, where);
	if (from == FROM_FILE)
		return cfg_fail(p->err, "%s: %s", where, why);
	if (from == FROM_DEFAULT)
		return cfg_fail(p->err, "default: %s", why);
	return -1;
}

/* The setting called name that a --config file may set, or -1. */
static int
file_setting(const char *name)
{
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (!(settings[i].flags & CFG_SOURCE) &&
		    !strcmp(settings[i].name, name))
			return (int)i;
	return -1;
}

/* Apply one "name = value" line (cut at #); 0, or -1 with err. */
static int
apply_line(struct parse *p, char *line, const char *where)
{
	char *name = line, *value, *end;
	int i;

	line[strcspn(line, "#\r\n")] = '\0';
	name += strspn(name, " \t");
	if (!*name)
		return 0;
	value = name + strcspn(name, " \t=");
	end = value;
	value += strspn(value, " \t");
	if (*value == '=')
		value += 1 + strspn(value + 1, " \t");
	*end = '\0';
	for (end = value + strlen(value);
	     end > value && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';
	i = file_setting(name);
	if (i < 0)
		return cfg_fail(p->err, "%s: unknown setting \"%s\"", where,
		                name);
	return apply(p, (size_t)i, value, FROM_FILE, where);
}

/*
 * The --config file: named by the last --config flag, else TICKERD_CONFIG.
 * Read at start and again on SIGHUP: small, blocking, never on a client's
 * path.  0, or -1 with err naming file and line.
 */
static int
read_config_file(struct parse *p, size_t src)
{
	char line[2048], where[PATH_MAX + 16], var[40];
	const char *env;
	int n = 0, rc = 0;
	FILE *f;

	if (src == N_SETTINGS) /* no setting names one */
		return 0;
	env = getenv(cfg_env_name(&settings[src], var, sizeof(var)));
	if (p->config && apply(p, src, p->config, FROM_FLAG, NULL))
		return -1;
	if (!p->config && env && *env && apply(p, src, env, FROM_ENV, var))
		return -1;
	if (!p->c->config_file[0])
		return 0;
	f = fopen(p->c->config_file, "r");
	if (!f)
		return cfg_fail(p->err, "--config: cannot read %s: %s",
		                p->c->config_file, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		snprintf(where, sizeof(where), "%s:%d", p->c->config_file, ++n);
		if (!strchr(line, '\n') && !feof(f))
			rc = cfg_fail(p->err, "%s: line too long", where);
		else
			rc = apply_line(p, line, where);
	}
	fclose(f);
	return rc;
}

/* Each setting's default, then the file, then its TICKERD_ variable. */
static int
read_layers(struct parse *p)
{
	char var[40];
	const char *value;
	size_t src = N_SETTINGS;

	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].def &&
		    apply(p, i, settings[i].def, FROM_DEFAULT, NULL))
			return -1;
		if (settings[i].flags & CFG_SOURCE)
			src = i;
	}
	if (read_config_file(p, src))
		return -1;
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].flags & CFG_SOURCE)
			continue;
		value = getenv(cfg_env_name(&settings[i], var, sizeof(var)));
		if (value && apply(p, i, value, FROM_ENV, var))
			return -1;
	}
	return 0;
}

/* getopt_long's view of the tables: option i is setting or action i. */
static void
build_options(struct option *o, char *shorts)
{
	char *sp = shorts;

	*sp++ = ':'; /* a missing value is ':', not '?' */
	for (size_t i = 0; i < N_OPTIONS; i++) {
		int is_set = i < N_SETTINGS;
		char flag =
		    is_set ? settings[i].flag : actions[i - N_SETTINGS].flag;

		o[i] = (struct option){
		    is_set ? settings[i].name : actions[i - N_SETTINGS].name,
		    !is_set                                ? no_argument
		    : settings[i].kind == &cfg_kind_switch ? optional_argument
		                                           : required_argument,
		    NULL, flag ? flag : 256 + (int)i};
		if (flag) {
			*sp++ = flag;
			if (is_set)
				*sp++ = ':';
		}
	}
	o[N_OPTIONS] = (struct option){0};
	*sp = '\0';
}

/* The option getopt_long() answered opt for, as an index into o. */
static size_t
option_index(const struct option *o, int opt)
{
	size_t i = 0;

	while (i < N_OPTIONS && o[i].val != opt)
		i++;
	return i;
}

static void print_help(void);
static void print_config(const struct parse *p);

/* Do what an action flag asks: CFG_EXIT_OK once it printed, or CFG_RUN. */
static enum cfg_result
act(struct parse *p, enum action a)
{
	switch (a) {
	case PRINT_CONFIG: /* once every layer is read */
		p->print_config = 1;
		return CFG_RUN;
	case HELP:
		print_help();
		break;
	case VERSION:
		printf("%s\n", TICKERD_SERVER);
		break;
	case HELP_MAN:
		cfg_print_man(settings, N_SETTINGS, TICKERD_DATA_DIR,
		              TICKERD_CONF_DIR);
		break;
	case HELP_CONFIG:
		cfg_print_example(settings, N_SETTINGS);
		break;
	default:
		cfg_print_markdown(settings, N_SETTINGS);
	}
	return CFG_EXIT_OK;
}

/*
 * Walk argv's options.  apply_them 0: check them, note --config, do the
 * actions (the first that prints ends the walk: CFG_EXIT_OK).  apply_them
 * 1, once the other layers are read: apply each setting in order.
 * CFG_RUN, CFG_EXIT_OK, or CFG_ERROR with err.
 */
static enum cfg_result
read_flags(struct parse *p, int argc, char **argv, int apply_them)
{
	struct option o[N_OPTIONS + 1];
	char shorts[2 * N_OPTIONS + 2];
	enum cfg_result rc;
	size_t i;
	int opt;

	build_options(o, shorts);
	optind = 0; /* glibc: start afresh, even after an earlier walk */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, o, NULL)) != -1) {
		if (opt == ':' || opt == '?') {
			cfg_fail(p->err,
			         opt == ':' ? "option %s needs a value"
			                    : "unknown option %s (see --help)",
			         argv[optind - 1]);
			return CFG_ERROR;
		}
		i = option_index(o, opt);
		if (i >= N_SETTINGS) {
			rc = apply_them ? CFG_RUN : act(p, i - N_SETTINGS);
			if (rc != CFG_RUN)
				return rc;
		} else if (settings[i].flags & CFG_SOURCE) {
			p->config = optarg; /* read_config_file() applies it */
		} else if (apply_them && apply(p, i, optarg ? optarg : "yes",
		                               FROM_FLAG, NULL)) {
			return CFG_ERROR;
		}
	}
	if (optind < argc) {
		cfg_fail(p->err, "unexpected argument \"%s\" (see --help)",
		         argv[optind]);
		return CFG_ERROR;
	}
	return CFG_RUN;
}

enum cfg_result
cfg_parse(struct cfg *c, int argc, char **argv, struct cfg_error *err)
{
	struct parse p = {.c = c, .err = err};
	enum cfg_result rc;

	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	rc = read_flags(&p, argc, argv, 0);
	if (rc != CFG_RUN)
		return rc;
	if (read_layers(&p) || read_flags(&p, argc, argv, 1) != CFG_RUN)
		return CFG_ERROR;
	if (p.print_config) {
		print_config(&p);
		return CFG_EXIT_OK;
	}
	return CFG_RUN;
}

int
cfg_reload(struct cfg *c, int argc, char **argv, struct cfg_error *err)
{
	struct cfg fresh;

	if (cfg_parse(&fresh, argc, argv, err) != CFG_RUN)
		return -1;
	for (size_t i = 0; i < N_SETTINGS; i++)
		if (settings[i].flags & CFG_RELOAD)
			memcpy((char *)c + settings[i].offset,
			       (char *)&fresh + settings[i].offset,
			       settings[i].size);
	return 0;
}

void
cfg_describe(const struct cfg *c, int reloadable, char *buf, size_t len)
{
	char value[LOG_VALUE + 2];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_SETTINGS && n < len; i++) {
		if (!(settings[i].flags & CFG_RELOAD) != !reloadable)
			continue;
		settings[i].kind->show(c, &settings[i], value, sizeof(value),
		                       0);
		if (strlen(value) > LOG_VALUE)
			strcpy(value + LOG_VALUE - 3, "...");
		n += (size_t)snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "",
		                      settings[i].name,
		                      value[0] ? value : "none");
	}
}

/* The --help text: the settings from the table, SIGHUP's last. */
static void
print_help(void)
{
	char text[1024], more[512], var[40];

	fputs(help_head, stdout);
	for (int reload = 0; reload < 2; reload++) {
		printf(reload ? "\nSIGHUP applies these at once, without "
		                "dropping a connection:\n"
		              : "\n");
		for (size_t i = 0; i < N_SETTINGS; i++) {
			const struct cfg_setting *s = &settings[i];

			if (!(s->flags & CFG_RELOAD) != !reload)
				continue;
			cfg_setting_text(s, more, sizeof(more));
			snprintf(text, sizeof(text), "%s (%s%s%s)", more,
			         cfg_env_name(s, var, sizeof(var)),
			         s->def ? ", default " : "",
			         s->def ? s->def : "");
			cfg_print_entry(s->flag, s->name, s->arg, text);
		}
	}
	printf("\n");
	for (size_t i = 0; i < N_ACTIONS; i++)
		if (actions[i].help)
			cfg_print_entry(actions[i].flag, actions[i].name, NULL,
			                actions[i].help);
	fputs(help_tail, stdout);
}

/* The settings in effect as a --config file, defaults commented out. */
static void
print_config(const struct parse *p)
{
	char value[PATH_MAX + 512];

	printf("# %s: the settings in effect; those left at their default "
	       "are commented out\n",
	       TICKERD_SERVER);
	if (p->c->config_file[0])
		printf("# read from %s\n", p->c->config_file);
	for (size_t i = 0; i < N_SETTINGS; i++) {
		if (settings[i].flags & CFG_SOURCE)
			continue;
		settings[i].kind->show(p->c, &settings[i], value, sizeof(value),
		                       1);
		printf("%s%s =%s%s\n", p->set[i] ? "" : "# ", settings[i].name,
		       value[0] ? " " : "", value);
	}
}
