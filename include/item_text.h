/* item_text.h: checks of an item's text fields (for item_fields.c). */
#ifndef TICKERD_ITEM_TEXT_H
#define TICKERD_ITEM_TEXT_H

#include "item.h"

#include <stddef.h>

#define ITEM_URL_MAX 2048 /* bytes of a url (or a related url) */

/* text_has_controls() - 1 if s[0..len) (valid UTF-8) holds a C0 or C1
 * control character or DEL. */
int text_has_controls(const char *s, size_t len);

/*
 * text_check_headline() - a headline (or what says it is one): not blank
 * (at least one visible character), at most max bytes, no controls.  0, or
 * -1 with err filled naming it as what.
 */
int text_check_headline(const char *s, size_t len, size_t max, const char *what,
                        struct item_error *err);

/* text_url_is_safe() - 1 if s is an absolute http(s) URL with a host and no
 * blanks or controls. */
int text_url_is_safe(const char *s, size_t len);

/* text_lang_is_valid() - 1 if s looks like a BCP 47 tag ("fr", "nb-NO"). */
int text_lang_is_valid(const char *s);

#endif
