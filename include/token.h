/* token.h: checking a reader's JWT (the key to private topics), with no
 * lws in it: what /ws, /events and the token message hand to access.c. */
#ifndef TICKERD_TOKEN_H
#define TICKERD_TOKEN_H

#include "topics.h"

#include <stddef.h>
#include <time.h>

/* The longest token taken (in a query or a token message). */
#define TOKEN_MAX 8192

/* Why a token was refused: one word each (token_reason_name()), as the
 * answers, the logs and tickerd_token_refusals_total{reason} say it. */
enum token_reason {
	TOKEN_OK = 0,
	TOKEN_MISSING,
	TOKEN_MALFORMED,
	TOKEN_TOO_LARGE,
	TOKEN_ALGORITHM,
	TOKEN_SIGNATURE,
	TOKEN_EXPIRED,
	TOKEN_NOT_YET_VALID,
	TOKEN_AUDIENCE,
	TOKEN_ISSUER,
	TOKEN_NOT_GRANTED,
	TOKEN_REASONS
};

/* token_reason_name() - "missing", "malformed", ... ("ok" for TOKEN_OK). */
const char *token_reason_name(enum token_reason r);

/*
 * What a token is checked against: the one algorithm accepted (fixed by
 * the key: HS256 for a secret, RS256 or ES256 by the public key's type),
 * the key's bytes (the secret, or the PEM as libjwt takes it), the
 * optional audience and issuer, and the leeway for exp and nbf.
 */
struct token_keys {
	char alg[8]; /* "HS256", "RS256", "ES256"; "" = none configured */
	unsigned char *key;
	size_t key_len;
	void *pkey; /* RS256, ES256: the public key, parsed once (EVP_PKEY) */
	char audience[256]; /* "" = not checked */
	char issuer[256];   /* "" = not checked */
	long leeway;        /* seconds */
};

/*
 * token_keys_load() - fill k from a secret (secret non-empty), else a
 * secret file, else a PEM public key file (RS256 for RSA, ES256 for a
 * P-256 EC key); none of them: k->alg "" (no token can be valid).  0, or
 * -1 with why[] saying what is wrong (never the secret itself).
 */
int token_keys_load(struct token_keys *k, const char *secret,
                    const char *secret_file, const char *key_file, char *why,
                    size_t why_len);

/* token_keys_free() - release what token_keys_load() took. */
void token_keys_free(struct token_keys *k);

/* What a valid token grants. */
struct token_claims {
	time_t exp; /* 0: the token does not expire */
	int n;      /* names in topics[] */
	char topics[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
};

/*
 * token_check() - check the len bytes of tok (not NUL-terminated) at time
 * now against k: TOKEN_OK with *out filled (the `topics` claim's valid
 * names, a JSON array or a string "a,b"; its first TOPIC_FILTER_MAX), or
 * the reason it is refused.  The header's alg must be k's exactly (so
 * "none", and an HS256 token signed with a public key's PEM, are refused
 * as "algorithm") before libjwt verifies the signature.
 */
enum token_reason token_check(const struct token_keys *k, const char *tok,
                              size_t len, time_t now, struct token_claims *out);

#endif
