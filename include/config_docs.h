/* config_docs.h: the manual page and the example --config file, from config.c's
 * table. */
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

#endif
