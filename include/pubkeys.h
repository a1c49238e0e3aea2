/* pubkeys.h: publisher keys (--publisher-key): read, shown, and a Bearer
 * key matched against their SHA-256 hashes. */
#ifndef TICKERD_PUBKEYS_H
#define TICKERD_PUBKEYS_H

#include "config.h"

#include <stddef.h>

/*
 * pubkey_parse() - add one "NAME=sha256:<64 hex>[:topic,topic]" (len
 * bytes at p) to keys; a name given again is replaced.  0, or -1 with a
 * sentence (naming no key) in why.
 */
int pubkey_parse(struct cfg_pubkeys *keys, const char *p, size_t len, char *why,
                 size_t why_len);

/*
 * pubkey_find() - the key whose hash is SHA-256(key[0..len)), compared in
 * constant time with every configured hash, or NULL (also for an empty or
 * over-long key).
 */
const struct cfg_pubkey *pubkey_find(const struct cfg_pubkeys *keys,
                                     const char *key, size_t len);

/* pubkey_allows() - 1 if k may publish to (and read) topic. */
int pubkey_allows(const struct cfg_pubkey *k, const char *topic);

/*
 * pubkey_sha256() - SHA-256 of data into out (32 bytes): 0, or -1 when
 * libcrypto fails.
 */
int pubkey_sha256(const void *data, size_t len, unsigned char out[32]);

#endif
