/* config_docs.h: what is printed from config.c's table of settings. */
#ifndef TICKERD_CONFIG_DOCS_H
#define TICKERD_CONFIG_DOCS_H

#include <stddef.h>

struct cfg_setting;

/*
 * cfg_print_man() - tickerd(8) in roff on stdout (--help-man): the n
 * settings of s with their variables, defaults and whether SIGHUP applies
 * them, then signals, HTTP, systemd, files (under data_dir and conf_dir,
 * the folders the build was made for) and exit status.
 */
void cfg_print_man(const struct cfg_setting *s, size_t n, const char *data_dir,
                   const char *conf_dir);

/*
 * cfg_print_example() - a --config file on stdout (--help-config): each
 * setting described in comments, its line commented out with its default
 * (or, when the build or nothing sets one, what it takes).
 */
void cfg_print_example(const struct cfg_setting *s, size_t n);

/* cfg_env_name() - a setting's variable, into buf: TICKERD_LOG_LEVEL. */
const char *cfg_env_name(const struct cfg_setting *s, char *buf, size_t len);

/* cfg_setting_text() - a setting's description, with its range if any. */
void cfg_setting_text(const struct cfg_setting *s, char *buf, size_t len);

/*
 * cfg_print_entry() - one option's --help entry on stdout: its flags, then
 * text, wrapped (`quotes` left out).
 */
void cfg_print_entry(char flag, const char *name, const char *arg,
                     const char *text);

/* cfg_print_markdown() - the README's table of the n settings of s. */
void cfg_print_markdown(const struct cfg_setting *s, size_t n);

#endif
