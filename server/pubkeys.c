/* pubkeys.c: publisher keys (--publisher-key) and the publish rate
 * (--publish-rate): read and shown as settings; a Bearer key matched against
 * the keys' SHA-256 hashes in constant time.  Only hashes are ever stored. */
#include "pubkeys.h"

#include "config_kinds.h"
#include "topics.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#define KEY_MAX 4096 /* a longer Bearer key matches nothing */

int
pubkey_sha256(const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 &&
	               n == 32
	           ? 0
	           : -1;
}

/* 1 if p[0..len) is 1-64 of A-Z a-z 0-9 _ . - (a key name, like a topic). */
static int
name_ok(const char *p, size_t len)
{
	return topic_is_valid(p, len);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The topics "a,b" (len bytes at p) into k; 0 or -1 (why). */
static int
parse_topics(struct cfg_pubkey *k, const char *p, size_t len, char *why,
             size_t why_len)
{
	size_t i = 0;

	k->n_topics = 0;
	while (i <= len) {
		size_t start = i;

		while (i < len && p[i] != ',')
			i++;
		if (!topic_is_valid(p + start, i - start)) {
			snprintf(why, why_len,
			         "its topics must be names of 1-64 of A-Z a-z "
			         "0-9 _ . -, comma-separated");
			return -1;
		}
		if (k->n_topics == CFG_PUBKEY_TOPICS) {
			snprintf(why, why_len, "more than %d topics",
			         CFG_PUBKEY_TOPICS);
			return -1;
		}
		memcpy(k->topics[k->n_topics], p + start, i - start);
		k->topics[k->n_topics][i - start] = '\0';
		k->n_topics++;
		i++; /* past the comma */
	}
	return 0;
}

int
pubkey_parse(struct cfg_pubkeys *keys, const char *p, size_t len, char *why,
             size_t why_len)
{
	static const char scheme[] = "sha256:";
	const char *eq = memchr(p, '=', len), *hex, *end = p + len;
	struct cfg_pubkey k;
	int i;

	memset(&k, 0, sizeof(k));
	if (!eq || !name_ok(p, (size_t)(eq - p))) {
		snprintf(
		    why, why_len,
		    "not NAME=sha256:<64 hex digits>[:topic,topic] (a name "
		    "of 1-64 of A-Z a-z 0-9 _ . - first)");
		return -1;
	}
	memcpy(k.name, p, (size_t)(eq - p));
	hex = eq + 1;
	if ((size_t)(end - hex) < sizeof(scheme) - 1 + 64 ||
	    memcmp(hex, scheme, sizeof(scheme) - 1)) {
		snprintf(why, why_len,
		         "key %s: the hash must be sha256:<64 hex digits> (the "
		         "key's SHA-256: printf %%s \"$KEY\" | sha256sum)",
		         k.name);
		return -1;
	}
	hex += sizeof(scheme) - 1;
	for (int b = 0; b < 32; b++) {
		int hi = hexval(hex[2 * b]), lo = hexval(hex[2 * b + 1]);

		if (hi < 0 || lo < 0) {
			snprintf(why, why_len,
			         "key %s: the hash must be 64 hex digits",
			         k.name);
			return -1;
		}
		k.sha256[b] = (unsigned char)(hi << 4 | lo);
	}
	hex += 64;
	if (hex < end) {
		if (*hex != ':' || hex + 1 == end) {
			snprintf(why, why_len,
			         "key %s: the hash must be 64 hex digits, then "
			         "nothing or :topic,topic",
			         k.name);
			return -1;
		}
		if (parse_topics(&k, hex + 1, (size_t)(end - hex - 1), why,
		                 why_len))
			return -1;
	}
	for (i = 0; i < keys->n; i++)
		if (!strcmp(keys->at[i].name, k.name))
			break;
	if (i == CFG_MAX_PUBKEYS) {
		snprintf(why, why_len, "more than %d keys", CFG_MAX_PUBKEYS);
		return -1;
	}
	keys->at[i] = k;
	if (i == keys->n)
		keys->n++;
	return 0;
}

const struct cfg_pubkey *
pubkey_find(const struct cfg_pubkeys *keys, const char *key, size_t len)
{
	const struct cfg_pubkey *found = NULL;
	unsigned char h[32];

	if (!len || len > KEY_MAX || pubkey_sha256(key, len, h))
		return NULL;
	/* Every hash is compared, in constant time each. */
	for (int i = 0; i < keys->n; i++)
		if (!CRYPTO_memcmp(h, keys->at[i].sha256, sizeof(h)) && !found)
			found = &keys->at[i];
	return found;
}

int
pubkey_allows(const struct cfg_pubkey *k, const char *topic)
{
	if (!k->n_topics)
		return 1;
	for (int i = 0; i < k->n_topics; i++)
		if (!strcmp(k->topics[i], topic))
			return 1;
	return 0;
}

/* ---- the settings ---- */

static struct cfg_pubkeys *
keys_of(const struct cfg *c, const struct cfg_setting *s)
{
	return (struct cfg_pubkeys *)((char *)c + s->offset);
}

/*
 * Each value adds keys: one or several, separated by blanks (a key's
 * topics are comma-separated, so a comma can't separate keys).
 */
static int
parse_keys(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	const char *p = text;

	for (;;) {
		char why[200];
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		len = strcspn(p, " \t");
		if (pubkey_parse(keys_of(c, s), p, len, why, sizeof(why)))
			return cfg_fail(err, "--%s: %s", s->name, why);
		p += len;
	}
}

/* exact: every key as it is read back; for logs: names and topics only. */
static void
show_keys(const struct cfg *c, const struct cfg_setting *s, char *buf,
          size_t len, int exact)
{
	const struct cfg_pubkeys *keys = keys_of(c, s);
	size_t n = 0;

	buf[0] = '\0';
	if (!exact && !keys->n)
		snprintf(buf, len, "none");
	for (int i = 0; i < keys->n && n < len; i++) {
		const struct cfg_pubkey *k = &keys->at[i];

		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "",
		                      k->name);
		if (exact && n < len) {
			n += (size_t)snprintf(buf + n, len - n, "=sha256:");
			for (int b = 0; b < 32 && n < len; b++)
				n += (size_t)snprintf(buf + n, len - n, "%02x",
				                      k->sha256[b]);
		}
		for (int t = 0; t < k->n_topics && n < len; t++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s",
			                      t       ? ","
			                      : exact ? ":"
			                              : "(",
			                      k->topics[t]);
		if (!exact && k->n_topics && n < len)
			n += (size_t)snprintf(buf + n, len - n, ")");
	}
}

const struct cfg_kind cfg_kind_pubkeys = {parse_keys, show_keys};

/* "20/s" or "600/m": 1-100000 per second or per minute. */
static int
parse_rate(struct cfg *c, const struct cfg_setting *s, const char *text,
           struct cfg_error *err)
{
	const char *slash = strchr(text, '/');
	struct cfg_rate r = {0, 0};
	char num[16];
	long n;

	if (slash && (size_t)(slash - text) < sizeof(num)) {
		memcpy(num, text, (size_t)(slash - text));
		num[slash - text] = '\0';
		if (!cfg_parse_number(num, 1, 100000, &n)) {
			r.n = (unsigned)n;
			r.per_ms = !strcmp(slash + 1, "s")   ? 1000
			           : !strcmp(slash + 1, "m") ? 60000
			                                     : 0;
		}
	}
	if (!r.per_ms)
		return cfg_fail(err,
		                "--%s: \"%.40s\" is not N/s or N/m (N from 1 "
		                "to 100000)",
		                s->name, text);
	memcpy((char *)c + s->offset, &r, sizeof(r));
	return 0;
}

static void
show_rate(const struct cfg *c, const struct cfg_setting *s, char *buf,
          size_t len, int exact)
{
	struct cfg_rate r;

	(void)exact;
	memcpy(&r, (const char *)c + s->offset, sizeof(r));
	snprintf(buf, len, "%u/%s", r.n, r.per_ms == 60000 ? "m" : "s");
}

const struct cfg_kind cfg_kind_rate = {parse_rate, show_rate};
