/* config_kinds.h: the kinds of value a setting takes (for config.c). */
#ifndef TICKERD_CONFIG_KINDS_H
#define TICKERD_CONFIG_KINDS_H

#include "config.h"

#include <stddef.h>

struct cfg_setting;

/* How one kind of value is read from text and written back as text. */
struct cfg_kind {
	/*
	 * Read text into the setting's bytes of c (a list kind adds to
	 * them).  0, or -1 with err naming the setting (--name: ...).
	 */
	int (*parse)(struct cfg *c, const struct cfg_setting *s,
	             const char *text, struct cfg_error *err);
	/*
	 * Write the value into buf (always NUL-terminated).  exact: as text
	 * parse() reads back, passwords included (--print-config); else for
	 * a log line: passwords hidden, long lists summed up.
	 */
	void (*show)(const struct cfg *c, const struct cfg_setting *s,
	             char *buf, size_t len, int exact);
};

/* cfg_setting.flags */
#define CFG_RELOAD 1u /* SIGHUP copies it into the running configuration */
#define CFG_SOURCE 2u /* names the --config file: not a line in it */

/* One row of config.c's settings table: all there is to know about one. */
struct cfg_setting {
	const char *name; /* --name, "name = value", TICKERD_NAME */
	char flag;        /* short option, or 0 */
	const char *arg;  /* what --help calls the value */
	const struct cfg_kind *kind;
	long min, max;       /* cfg_kind_uint's range */
	const char *def;     /* the default, as text; NULL: none */
	const char *doc_def; /* the README's, if the build sets def; or NULL */
	size_t offset, size; /* the bytes of struct cfg it sets */
	unsigned flags;      /* CFG_RELOAD, CFG_SOURCE */
	const char *help;    /* one sentence, `code` in backquotes */
};

extern const struct cfg_kind cfg_kind_listen;  /* HOST:PORT */
extern const struct cfg_kind cfg_kind_redis;   /* a Redis URL */
extern const struct cfg_kind cfg_kind_secret;  /* a password */
extern const struct cfg_kind cfg_kind_name;    /* 1-64 of A-Z a-z 0-9 _.- */
extern const struct cfg_kind cfg_kind_path;    /* a file or folder name */
extern const struct cfg_kind cfg_kind_uint;    /* a number in [min, max] */
extern const struct cfg_kind cfg_kind_level;   /* error ... debug */
extern const struct cfg_kind cfg_kind_origins; /* a list of origins */
extern const struct cfg_kind cfg_kind_switch;  /* yes or no; a bare flag: yes */
extern const struct cfg_kind cfg_kind_cidrs;   /* a list of IP ranges */
extern const struct cfg_kind cfg_kind_topic_spans; /* TOPIC=DURATION,... */
extern const struct cfg_kind cfg_kind_span;        /* 30s, 2m: 1 s to a day */
extern const struct cfg_kind cfg_kind_pubkeys; /* NAME=sha256:HEX[:t,t] ... */
extern const struct cfg_kind cfg_kind_rate;    /* 20/s, 600/m */

/* cfg_parse_number() - a decimal in [min, max] filling all of s; 0 or -1. */
int cfg_parse_number(const char *s, long min, long max, long *out);

/* One item of a comma-separated list: len bytes at p, trimmed, not empty;
 * 0, or -1 with err. */
typedef int (*cfg_item_fn)(struct cfg *c, const struct cfg_setting *s,
                           const char *p, size_t len, struct cfg_error *err);

/*
 * cfg_for_each_item() - call add for each item of list ("a, b,c": split at
 * commas, spaces around an item dropped, empty items skipped).  0, or
 * add's -1 (err).
 */
int cfg_for_each_item(struct cfg *c, const struct cfg_setting *s,
                      const char *list, cfg_item_fn add, struct cfg_error *err);

/* cfg_fail() - print fmt into err; returns -1. */
int cfg_fail(struct cfg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
