/* config_docs.c: what is printed from config.c's table of settings: --help's
 * entries, the README's table, the manual page and the example --config file.
 */
#include "config_docs.h"

#include "config_kinds.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

#define WIDTH       79 /* the example file wraps its comments here */
#define HELP_WIDTH  79 /* --help wraps its lines here */
#define HELP_COLUMN 29 /* and starts each description here */

/* The environment variable of a setting: TICKERD_LOG_LEVEL etc. */
const char *
cfg_env_name(const struct cfg_setting *s, char *buf, size_t len)
{
	snprintf(buf, len, "TICKERD_%s", s->name);
	for (size_t i = 8; buf[i]; i++)
		buf[i] = buf[i] == '-' ? '_' : (char)(buf[i] & ~0x20);
	return buf;
}

/*
 * Print text's words from column col, `quotes` left out, wrapped at width:
 * each further line starts with prefix, padded to column indent.  A word
 * at column indent (a line's first) has no space before it, others one.
 */
static void
wrap(const char *text, size_t col, const char *prefix, size_t indent,
     size_t width)
{
	while (*text) {
		size_t word = strcspn(text, " "), shown = word;

		for (size_t k = 0; k < word; k++)
			shown -= text[k] == '`';
		if (col > indent && col + 1 + shown > width) {
			printf("\n%s%*s", prefix,
			       (int)(indent - strlen(prefix)), "");
			col = indent;
		}
		if (col != indent) {
			putchar(' ');
			col++;
		}
		for (size_t k = 0; k < word; k++)
			if (text[k] != '`')
				putchar(text[k]);
		col += shown;
		text += word + strspn(text + word, " ");
	}
	putchar('\n');
}

/* One option's --help entry: flags, then what it is, wrapped. */
void
cfg_print_entry(char flag, const char *name, const char *arg, const char *text)
{
	int col;

	col = flag ? printf("  -%c, --%s", flag, name)
	           : printf("      --%s", name);
	if (arg) /* a switch's "[=no]" follows its name */
		col += printf(*arg == '[' ? "%s" : " %s", arg);
	if (col + 2 > HELP_COLUMN) {
		printf("\n");
		col = 0;
	}
	printf("%*s", HELP_COLUMN - col, "");
	wrap(text, HELP_COLUMN, "", HELP_COLUMN, HELP_WIDTH);
}

/* A setting's description, with its range if it has one. */
void
cfg_setting_text(const struct cfg_setting *s, char *buf, size_t len)
{
	if (s->max)
		snprintf(buf, len, "%s; %ld to %ld", s->help, s->min, s->max);
	else
		snprintf(buf, len, "%s", s->help);
}

/* Text for a Markdown table cell: | escaped. */
static void
print_cell(const char *text)
{
	for (; *text; text++) {
		if (*text == '|')
			putchar('\\');
		putchar(*text);
	}
}

/* The README's table of settings, from the same table as --help. */
void
cfg_print_markdown(const struct cfg_setting *settings, size_t n)
{
	char var[40], text[1024];

	printf("| flag | variable | default | SIGHUP | |\n"
	       "|---|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		const struct cfg_setting *s = &settings[i];
		const char *def = s->doc_def ? s->doc_def : s->def;

		printf("| ");
		if (s->flag)
			printf("`-%c`, ", s->flag);
		printf(*s->arg == '[' ? "`--%s%s` | `%s` | "
		                      : "`--%s %s` | `%s` | ",
		       s->name, s->arg, cfg_env_name(s, var, sizeof(var)));
		printf(def ? "`%s`" : "%s", def ? def : "none");
		printf(" | %s | ", s->flags & CFG_RELOAD ? "yes" : "restart");
		cfg_setting_text(s, text, sizeof(text));
		print_cell(text);
		printf(" |\n");
	}
}

/*
 * text as roff: `code` in bold with its hyphens as \-, backslashes as \e,
 * a dot or quote that would start the line made harmless.  code: the
 * whole of text is code.
 */
static void
roff(const char *text, int code)
{
	int bold = 0;

	if (*text == '.' || *text == '\'')
		fputs("\\&", stdout);
	if (code)
		fputs("\\fB", stdout);
	for (; *text; text++) {
		if (*text == '`' && !code) {
			fputs(bold ? "\\fR" : "\\fB", stdout);
			bold = !bold;
		} else if (*text == '\\') {
			fputs("\\e", stdout);
		} else if (*text == '-' && (bold || code)) {
			fputs("\\-", stdout);
		} else {
			putchar(*text);
		}
	}
	if (bold || code)
		fputs("\\fR", stdout);
}

static const char man_head[] =
    ".SH NAME\n"
    "tickerd \\- live news ticker server: headlines from Redis to "
    "WebSocket and EventSource screens\n"
    ".SH SYNOPSIS\n"
    ".B tickerd\n"
    ".RI [ OPTION ]...\n"
    ".SH DESCRIPTION\n"
    "Editors and scripts publish headlines into Redis\n"
    "(\\fBredis\\-cli PUBLISH ticker:breaking \"...\"\\fR);\n"
    "\\fBtickerd\\fR validates each one, records it once in a change log "
    "(a Redis stream),\n"
    "and pushes it to every browser ticker widget and newsroom wall "
    "display watching,\n"
    "over WebSocket (\\fB/ws\\fR) or EventSource (\\fB/events\\fR).\n"
    "It also serves the front-end that draws the ticker.\n"
    "One process, one thread, one event loop; several instances may share "
    "one Redis.\n"
    ".SH OPTIONS\n"
    "Each setting is a flag, an environment variable "
    "\\fBTICKERD_\\fINAME\\fR\n"
    "and a \\fIname\\fB = \\fIvalue\\fR line of the \\fB\\-\\-config\\fR "
    "file.\n"
    "Precedence: defaults, then the file, then the environment, then "
    "flags;\n"
    "the origins of \\fB\\-\\-allow\\-origin\\fR add up instead.\n";

static const char man_actions[] =
    ".SS Actions\n"
    "These print something and exit 0.\n"
    ".TP\n"
    "\\fB\\-\\-print\\-config\\fR\n"
    "the settings in effect after every layer, as a \\fB\\-\\-config\\fR "
    "file,\n"
    "those left at their default commented out (the Redis password "
    "shown).\n"
    ".TP\n"
    "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
    "a summary of the options.\n"
    ".TP\n"
    "\\fB\\-V\\fR, \\fB\\-\\-version\\fR\n"
    "the version.\n"
    ".TP\n"
    "\\fB\\-\\-help\\-config\\fR\n"
    "an example \\fB\\-\\-config\\fR file: every setting described, its "
    "line commented out.\n"
    ".TP\n"
    "\\fB\\-\\-help\\-man\\fR\n"
    "this manual page, in roff.\n"
    ".TP\n"
    "\\fB\\-\\-help\\-markdown\\fR\n"
    "the table of settings, in Markdown (for the README).\n";

static const char man_rest[] =
    ".SH CONFIGURATION FILE\n"
    "One \\fIname\\fB = \\fIvalue\\fR a line, names as the long options,\n"
    "\\fB#\\fR starts a comment.\n"
    "\\fBtickerd \\-\\-help\\-config\\fR prints one with every setting "
    "described;\n"
    "\\fBtickerd \\-\\-print\\-config\\fR shows what is in effect.\n"
    ".SH SIGNALS\n"
    ".TP\n"
    ".B SIGHUP\n"
    "reads the configuration again (the \\fB\\-\\-config\\fR file, the "
    "environment\n"
    "tickerd started with, its flags) and applies the settings marked so "
    "above\n"
    "at once, without dropping a connection; it also reads the "
    "\\fB\\-\\-web\\fR folder again.\n"
    "A configuration that does not parse is logged and changes nothing.\n"
    ".TP\n"
    ".BR SIGTERM \", \" SIGINT\n"
    "every client gets a close frame (1001) within a 2 s grace period, "
    "then tickerd exits 0.\n"
    ".SH HTTP\n"
    "HTTP/1.1, \\fBGET\\fR and \\fBHEAD\\fR only, on the \\fB\\-\\-listen\\fR "
    "address:\n"
    "\\fB/healthz\\fR (JSON status; 503 while Redis is not all there),\n"
    "\\fB/metrics\\fR (Prometheus),\n"
    "\\fB/ws?topics=\\fIa,b\\fB&since=\\fISEQ\\fR (WebSocket),\n"
    "\\fB/events?topics=\\fIa,b\\fR (EventSource),\n"
    "\\fB/items.json?topics=\\fIa,b\\fR (the items, JSON),\n"
    "\\fB/feed.atom?topics=\\fIa,b\\fR (the items, Atom 1.0),\n"
    "then the files of \\fB\\-\\-web\\fR.\n"
    ".SH SYSTEMD\n"
    "Started by systemd with \\fBType=notify\\fR, tickerd says "
    "\\fBREADY=1\\fR once it serves,\n"
    "\\fBRELOADING=1\\fR and \\fBREADY=1\\fR around a SIGHUP reload,\n"
    "\\fBSTOPPING=1\\fR when it shuts down, and a \\fBSTATUS=\\fR line "
    "(clients, items, Redis).\n"
    "With \\fBWatchdogSec=\\fR (3 s or more) it sends \\fBWATCHDOG=1\\fR "
    "every second\n"
    "from its event loop, so systemd restarts a tickerd whose loop "
    "stalled.\n"
    "Without \\fBNOTIFY_SOCKET\\fR in its environment it sends nothing.\n"
    ".SH EXIT STATUS\n"
    "0 after SIGTERM or SIGINT, or an action; 1 if it cannot serve "
    "(the address is taken);\n"
    "2 for a bad flag, value, file or URL (the reason on stderr).\n"
    ".SH EXAMPLES\n"
    "Publish a headline, and durably, even while no tickerd runs:\n"
    ".PP\n"
    ".nf\n"
    ".RS\n"
    "redis\\-cli PUBLISH ticker:breaking \"Headline\"\n"
    "redis\\-cli FCALL tickerd_record 2 ticker:log ticker:seen breaking "
    "\"Headline\"\n"
    ".RE\n"
    ".fi\n";

void
cfg_print_man(const struct cfg_setting *s, size_t n, const char *data_dir,
              const char *conf_dir)
{
	char text[1024], var[40];

	printf(".\\\" tickerd(8): printed by `tickerd --help-man` from the "
	       "table of settings in\n"
	       ".\\\" server/config.c; edit that, not this.\n"
	       ".TH TICKERD 8 \"\" \"%s\" \"System Administration\"\n"
	       ".nh\n", /* options and names are not to be hyphenated */
	       TICKERD_SERVER);
	fputs(man_head, stdout);
	for (int reload = 0; reload < 2; reload++) {
		printf(".SS %s\n",
		       reload ? "Applied at once by SIGHUP" : "Read at start");
		for (size_t i = 0; i < n; i++) {
			if (!(s[i].flags & CFG_RELOAD) != !reload)
				continue;
			printf(".TP\n");
			if (s[i].flag)
				printf("\\fB\\-%c\\fR, ", s[i].flag);
			printf("\\fB\\-\\-");
			for (const char *c = s[i].name; *c; c++)
				if (*c == '-')
					fputs("\\-", stdout);
				else
					putchar(*c);
			printf("\\fR \\fI%s\\fR\n", s[i].arg);
			cfg_setting_text(&s[i], text, sizeof(text));
			roff(text, 0);
			printf(".\n.br\nVariable ");
			roff(cfg_env_name(&s[i], var, sizeof(var)), 1);
			if (s[i].def) {
				printf("; default ");
				roff(s[i].def, 1);
			} else {
				printf("; no default");
			}
			printf(".\n");
		}
	}
	fputs(man_actions, stdout);
	fputs(man_rest, stdout);
	printf(".SH FILES\n.TP\n");
	roff(conf_dir, 1);
	printf("\\fB/tickerd.conf\\fR\n"
	       "the configuration the systemd units give with "
	       "\\fB\\-\\-config\\fR.\n.TP\n");
	roff(data_dir, 1);
	printf("\\fB/web/\\fR\n"
	       "the front-end (\\fB\\-\\-web\\fR's default).\n.TP\n");
	roff(data_dir, 1);
	printf("\\fB/redis/tickerd.lua\\fR\n"
	       "the Redis function library tickerd loads; publishers may "
	       "load it\n"
	       "themselves to publish durably with \\fBFCALL\\fR.\n");
	printf(".SH SEE ALSO\n"
	       ".BR redis\\-server (1),\n"
	       ".BR redis\\-cli (1),\n"
	       ".BR systemd.service (5),\n"
	       ".BR sd_notify (3)\n");
}

/*
 * Print text as comment lines: first after "# ", the rest after "#   ",
 * wrapped at WIDTH, `quotes` left out.
 */
static void
comment(const char *text)
{
	wrap(text, (size_t)printf("#"), "#", 4, WIDTH);
}

void
cfg_print_example(const struct cfg_setting *s, size_t n)
{
	char text[1200], more[1024], var[40];

	printf("# tickerd.conf: tickerd's settings, one \"name = value\" a "
	       "line; # starts a\n"
	       "# comment.  Printed by `tickerd --help-config` from the table "
	       "of settings in\n"
	       "# server/config.c.  Every line is commented out: the default "
	       "applies.  A\n"
	       "# TICKERD_<NAME> variable beats this file and a flag beats "
	       "both.  SIGHUP reads\n"
	       "# the file again and applies at once the settings that say so; "
	       "the others\n"
	       "# need a restart.  `tickerd --print-config` shows what is in "
	       "effect.\n");
	for (size_t i = 0; i < n; i++) {
		const char *def = s[i].doc_def ? s[i].doc_def : s[i].def;

		if (s[i].flags & CFG_SOURCE)
			continue;
		cfg_setting_text(&s[i], more, sizeof(more));
		snprintf(text, sizeof(text), "%s: %s. %s; default %s; %s.",
		         s[i].name, more, cfg_env_name(&s[i], var, sizeof(var)),
		         def ? def : "none",
		         s[i].flags & CFG_RELOAD ? "SIGHUP applies it at once"
		                                 : "needs a restart");
		printf("\n");
		comment(text);
		/* A default the build sets, or none: what the line takes. */
		printf("# %s = %s\n", s[i].name,
		       s[i].def && !s[i].doc_def ? s[i].def : s[i].arg);
	}
}
