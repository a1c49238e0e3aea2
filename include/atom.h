/* atom.h: the items as an Atom 1.0 feed (RFC 4287), text escaped as XML
 * requires. */
#ifndef TICKERD_ATOM_H
#define TICKERD_ATOM_H

#include <stddef.h>
#include <time.h>

struct msg;
struct topic_filter;

/*
 * What the outputs need of one item message, read from its JSON once and
 * kept with the message (msg->atom: one block, freed with it): its expiry
 * and its Atom <entry> element.
 */
struct atom_entry {
	time_t expires; /* the item's expires; 0: none */
	size_t len;
	char xml[]; /* the <entry> element: len bytes and a NUL */
};

/*
 * atom_escape() - s[0..len) (UTF-8) as XML character data, fit for an
 * element's text and a double-quoted attribute value, into out (room for
 * ATOM_ESCAPED_MAX(len) bytes); returns the bytes written (no NUL).  & < >
 * and " become entities, tab, LF and CR character references (so an
 * attribute keeps them); what XML 1.0 forbids (other C0 controls, U+FFFE,
 * U+FFFF) and bytes that are not UTF-8 become U+FFFD.  Never writes a
 * character XML does not allow.
 */
size_t atom_escape(char *out, const char *s, size_t len);

/* The most atom_escape() writes for len bytes ("&quot;" for each). */
#define ATOM_ESCAPED_MAX(len) (6 * (len))

/*
 * atom_uuid() - "urn:uuid:" and the name-based (SHA-1, version 5) UUID of
 * name[0..len) in tickerd's namespace, into out[ATOM_UUID_LEN]: the same
 * name gives the same id in every process and release.
 */
#define ATOM_UUID_LEN 46
void atom_uuid(const char *name, size_t len, char out[ATOM_UUID_LEN]);

/*
 * atom_entry_of() - the item message m's entry (made on the first call
 * and kept in m: borrowed): id urn:uuid from "item:<topic>/<id>" (a
 * correction keeps it), title the headline, updated the item's time,
 * xml:lang its lang, author its source, a category for its topic, an
 * alternate link to its url (else the headline as content), related links,
 * its label as summary.  NULL on ENOMEM or a message that is no item.
 */
const struct atom_entry *atom_entry_of(struct msg *m);

/*
 * atom_feed() - the feed document for the topics f selects, with the n
 * entries (in the order given), updated at updated: id urn:uuid from the
 * topics, a title naming them, links (self, and the wall display as the
 * alternate) relative to the feed's own URL, so that the bytes do not
 * depend on the host or path it was asked by.  A new NUL-terminated string
 * (*len bytes; free() it), or NULL on ENOMEM.
 */
char *atom_feed(const struct topic_filter *f,
                const struct atom_entry *const *entries, size_t n,
                time_t updated, size_t *len);

#endif
