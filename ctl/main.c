/* main.c: tickerctl's command line: global options, the command, its words. */
#include "ctl.h"

#include "topics.h"
#include "version.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which commands take an option (struct command.bit). */
#define C_PUBLISH 1u
#define C_CORRECT 2u
#define C_KILL    4u
#define C_TAIL    8u
#define C_CHECK   16u
#define C_SCREENS 32u
#define C_ITEM    (C_PUBLISH | C_CORRECT)

static const char usage_text[] =
    "usage: tickerctl [--redis URL] [--prefix NAME] COMMAND [OPTION]... "
    "[WORD]...\n"
    "Publish to tickerd through Redis, each item checked first by tickerd's "
    "own\n"
    "item parser; follow the change log; check payloads.\n"
    "\n"
    "  publish HEADLINE       a new item; prints its seq (the log entry's "
    "id)\n"
    "  correct ID HEADLINE    the item's next version: the newest in the "
    "log, with\n"
    "                         this headline and the fields given; prints "
    "its seq\n"
    "  kill ID                remove the item from every screen; prints "
    "the seq\n"
    "  tail                   print each item as it is recorded, until "
    "interrupted:\n"
    "                         TIME TOPIC PRIORITY HEADLINE, corrections and "
    "kills\n"
    "                         marked [corrected ID], [killed ID]\n"
    "  check FILE|-           check a payload or ninjs file without "
    "publishing;\n"
    "                         prints the normalised item (needs no Redis)\n"
    "  screens                tickerd's named screens (GET /screens) as a "
    "table;\n"
    "                         exit status 1 when one is stale\n"
    "\n"
    "Item options (publish, correct; --topic also kill, check):\n"
    "  --topic T              the topic (default " CTL_DEFAULT_TOPIC ")\n"
    "  --priority P           flash, bulletin, urgent or routine\n"
    "  --id ID                the item's id (publish; else derived from "
    "the payload)\n"
    "  --url URL, --label TEXT, --lang TAG, --source TEXT\n"
    "  --embargo TIME, --expires TIME    ISO 8601\n"
    "Tail options:\n"
    "  --topics a,b           only these topics (default all)\n"
    "  --since SEQ            start after SEQ (0-0: the whole log), not at "
    "the end\n"
    "Screens options:\n"
    "  --tickerd HOST:PORT    where tickerd serves (TICKERD_LISTEN; default\n"
    "                         " CTL_DEFAULT_LISTEN ")\n"
    "Global options:\n"
    "  -r, --redis URL        redis://[:password@]host[:port][/db], "
    "unix:///path,\n"
    "                         sentinel://[:password@]host[:port],.../NAME"
    "[/db] or\n"
    "                         cluster://[:password@]host[:port],...\n"
    "                         (TICKERD_REDIS; default " CTL_DEFAULT_REDIS ")\n"
    "  --sentinel-password P  the sentinels' own password "
    "(TICKERD_SENTINEL_PASSWORD)\n"
    "  -p, --prefix NAME      tickerd's --prefix (TICKERD_PREFIX; "
    "default " CTL_DEFAULT_PREFIX ")\n"
    "  -h, --help             this text\n"
    "  -V, --version          tickerctl's version\n"
    "\n"
    "Exit status: 0 done; 1 refused, by validation (the reason on stderr) "
    "or by\n"
    "Redis; 2 a bad command line; 3 Redis could not be reached.  Results on "
    "stdout,\n"
    "everything else on stderr.  See tickerctl(1).\n";

enum opt_id {
	O_REDIS = 'r',
	O_PREFIX = 'p',
	O_HELP = 'h',
	O_VERSION = 'V',
	O_TOPIC = 256,
	O_TOPICS,
	O_SINCE,
	O_SENTINEL_PASSWORD,
	O_TICKERD,
	O_FIELD /* O_FIELD + enum ctl_field */
};

static const struct option long_options[] = {
    {"redis", required_argument, NULL, O_REDIS},
    {"prefix", required_argument, NULL, O_PREFIX},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {"topic", required_argument, NULL, O_TOPIC},
    {"topics", required_argument, NULL, O_TOPICS},
    {"since", required_argument, NULL, O_SINCE},
    {"sentinel-password", required_argument, NULL, O_SENTINEL_PASSWORD},
    {"tickerd", required_argument, NULL, O_TICKERD},
    {"priority", required_argument, NULL, O_FIELD + CTL_F_PRIORITY},
    {"id", required_argument, NULL, O_FIELD + CTL_F_ID},
    {"url", required_argument, NULL, O_FIELD + CTL_F_URL},
    {"embargo", required_argument, NULL, O_FIELD + CTL_F_EMBARGO},
    {"expires", required_argument, NULL, O_FIELD + CTL_F_EXPIRES},
    {"label", required_argument, NULL, O_FIELD + CTL_F_LABEL},
    {"lang", required_argument, NULL, O_FIELD + CTL_F_LANG},
    {"source", required_argument, NULL, O_FIELD + CTL_F_SOURCE},
    {NULL, 0, NULL, 0},
};

/* The commands each option from O_TOPIC on belongs to. */
static unsigned
option_commands(int id)
{
	if (id == O_SENTINEL_PASSWORD)
		return ~0u; /* global */
	if (id == O_TOPIC)
		return C_ITEM | C_KILL | C_CHECK;
	if (id == O_TOPICS || id == O_SINCE)
		return C_TAIL;
	if (id == O_TICKERD)
		return C_SCREENS;
	if (id == O_FIELD + CTL_F_ID)
		return C_PUBLISH;
	return C_ITEM;
}

/* One command: its name, how many words it takes, what runs it. */
struct command {
	const char *name;
	unsigned bit;
	int n_args;
	const char *args; /* for a usage error */
	int (*run)(struct ctl *c);
};

static const struct command commands[] = {
    {"publish", C_PUBLISH, 1, "HEADLINE (quote it)", ctl_publish},
    {"correct", C_CORRECT, 2, "ID HEADLINE", ctl_correct},
    {"kill", C_KILL, 1, "ID", ctl_kill},
    {"tail", C_TAIL, 0, "no words", ctl_tail},
    {"check", C_CHECK, 1, "FILE (or - for stdin)", ctl_check},
    {"screens", C_SCREENS, 0, "no words", ctl_screens},
};

void
ctl_say(const char *fmt, ...)
{
	va_list ap;

	fputs("tickerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *
ctl_topic(const struct ctl *c)
{
	return c->topic ? c->topic : CTL_DEFAULT_TOPIC;
}

/* A usage error: the message, a pointer to --help; returns CTL_USAGE. */
static int __attribute__((format(printf, 1, 2))) usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tickerctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (tickerctl --help)\n", stderr);
	return CTL_USAGE;
}

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The long name of option id, for messages. */
static const char *
option_name(int id)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

/*
 * Read argv into c: options anywhere (getopt_long permutes; "--" ends
 * them), the first word the command.  Returns -1 to go on, or the exit
 * status (after --help, --version or a usage error).  *cmd is the command.
 */
static int
read_command_line(struct ctl *c, int argc, char **argv,
                  const struct command **cmd)
{
	int given[O_FIELD + CTL_F_COUNT] = {0}, id;

	opterr = 0;
	while ((id = getopt_long(argc, argv, ":r:p:hV", long_options, NULL)) !=
	       -1) {
		if (id == '?' && optopt)
			return usage("unknown option -%c", optopt);
		if (id == '?')
			return usage("unknown option %s", argv[optind - 1]);
		if (id == ':')
			return usage("%s needs a value", argv[optind - 1]);
		if (id == O_HELP) {
			fputs(usage_text, stdout);
			return CTL_DONE;
		}
		if (id == O_VERSION) {
			puts("tickerctl/" TICKERD_VERSION);
			return CTL_DONE;
		}
		given[id < O_TOPIC ? 0 : id] = 1;
		if (id == O_REDIS)
			c->redis_url = optarg;
		else if (id == O_PREFIX)
			c->prefix = optarg;
		else if (id == O_TOPIC)
			c->topic = optarg;
		else if (id == O_TOPICS)
			c->topics = optarg;
		else if (id == O_SINCE)
			c->since = optarg;
		else if (id == O_SENTINEL_PASSWORD)
			c->sentinel_password = optarg;
		else if (id == O_TICKERD)
			c->tickerd = optarg;
		else
			c->fields[id - O_FIELD] = optarg;
	}
	if (optind >= argc)
		return usage("%s", "no command: publish, correct, kill, tail, "
		                   "check or screens");
	*cmd = find_command(argv[optind]);
	if (!*cmd)
		return usage("unknown command \"%s\"", argv[optind]);
	for (id = O_TOPIC; id < O_FIELD + CTL_F_COUNT; id++)
		if (given[id] && !(option_commands(id) & (*cmd)->bit))
			return usage("%s takes no --%s", (*cmd)->name,
			             option_name(id));
	c->args = argv + optind + 1;
	c->n_args = argc - optind - 1;
	if (c->n_args != (*cmd)->n_args)
		return usage("%s takes %s, got %d word%s", (*cmd)->name,
		             (*cmd)->args, c->n_args,
		             c->n_args == 1 ? "" : "s");
	return -1;
}

/* The settings must make sense before anything is done: the Redis URL
 * (for every command, check included: a script's mistake is said at
 * once), the prefix and the topic.  -1 to go on, or CTL_USAGE. */
static int
check_settings(struct ctl *c)
{
	struct cfg_error err;

	if (cfg_parse_redis_url(c->redis_url, &c->target, &err)) {
		ctl_say("%s (tickerctl --help)", err.text);
		return CTL_USAGE;
	}
	if (!topic_is_valid(c->prefix, strlen(c->prefix)))
		return usage("--prefix \"%s\": 1-64 of A-Z a-z 0-9 _ . -",
		             c->prefix);
	if (c->topic && !topic_is_valid(c->topic, strlen(c->topic)))
		return usage("--topic \"%s\": 1-64 of A-Z a-z 0-9 _ . -",
		             c->topic);
	return -1;
}

int
main(int argc, char **argv)
{
	struct ctl c = {0};
	const struct command *cmd = NULL;
	int rc;

	c.redis_url = getenv("TICKERD_REDIS");
	if (!c.redis_url || !*c.redis_url)
		c.redis_url = CTL_DEFAULT_REDIS;
	c.prefix = getenv("TICKERD_PREFIX");
	if (!c.prefix || !*c.prefix)
		c.prefix = CTL_DEFAULT_PREFIX;
	c.tickerd = getenv("TICKERD_LISTEN");
	if (!c.tickerd || !*c.tickerd)
		c.tickerd = CTL_DEFAULT_LISTEN;
	c.sentinel_password = getenv("TICKERD_SENTINEL_PASSWORD");
	if (c.sentinel_password && !*c.sentinel_password)
		c.sentinel_password = NULL;

	rc = read_command_line(&c, argc, argv, &cmd);
	if (rc < 0)
		rc = check_settings(&c);
	if (rc < 0)
		rc = cmd->run(&c);
	ctl_disconnect(&c);
	if (fflush(stdout) && rc == CTL_DONE) {
		ctl_say("cannot write the result: %m");
		rc = CTL_REFUSED;
	}
	return rc;
}
