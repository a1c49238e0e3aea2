/* token.c: a reader's JWT, checked: its form, its algorithm (the one the
 * configured key fixes), its signature (libjwt for HS256; OpenSSL with the
 * key parsed once for RS256 and ES256), its times and its claims.
 *
 * libjwt 1.10 is handed a token only once its header's alg is known to be
 * the configured one: with no key it would take any token unverified (and
 * call an HS256 one "none"), and with a PEM public key it would verify an
 * HS256 token whose HMAC secret is that PEM (algorithm confusion).  It
 * checks neither exp nor nbf, and does not tell a malformed token from a
 * bad signature, so the form and the claims are read here (jansson) from
 * the very bytes libjwt verifies.
 */
#include "token.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[TOKEN_REASONS] = {
    [TOKEN_OK] = "ok",
    [TOKEN_MISSING] = "missing",
    [TOKEN_MALFORMED] = "malformed",
    [TOKEN_TOO_LARGE] = "too_large",
    [TOKEN_ALGORITHM] = "algorithm",
    [TOKEN_SIGNATURE] = "signature",
    [TOKEN_EXPIRED] = "expired",
    [TOKEN_NOT_YET_VALID] = "not_yet_valid",
    [TOKEN_AUDIENCE] = "audience",
    [TOKEN_ISSUER] = "issuer",
    [TOKEN_NOT_GRANTED] = "not_granted",
};

const char *
token_reason_name(enum token_reason r)
{
	return (unsigned)r < TOKEN_REASONS ? reason_names[r] : "malformed";
}

/* Read a whole file (at most 64 KiB) into a new buffer; NULL on failure. */
static unsigned char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	if (!fp)
		return NULL;
	buf = malloc(65536 + 1);
	n = buf ? fread(buf, 1, 65536 + 1, fp) : 0;
	fclose(fp);
	if (!buf || !n || n > 65536) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static const char *pem_alg(const unsigned char *pem, size_t len,
                           EVP_PKEY **out);

int
token_keys_load(struct token_keys *k, const char *secret,
                const char *secret_file, const char *key_file, char *why,
                size_t why_len)
{
	const char *alg;

	token_keys_free(k);
	if (secret && *secret) {
		k->key = (unsigned char *)strdup(secret);
		k->key_len = strlen(secret);
		alg = "HS256";
	} else if (secret_file && *secret_file) {
		k->key = read_file(secret_file, &k->key_len);
		/* One line: a trailing newline is not part of the secret. */
		while (k->key && k->key_len &&
		       (k->key[k->key_len - 1] == '\n' ||
		        k->key[k->key_len - 1] == '\r'))
			k->key[--k->key_len] = '\0';
		if (!k->key || !k->key_len) {
			snprintf(why, why_len,
			         "--token-secret-file: can't read %s, or it is "
			         "empty",
			         secret_file);
			token_keys_free(k);
			return -1;
		}
		alg = "HS256";
	} else if (key_file && *key_file) {
		k->key = read_file(key_file, &k->key_len);
		alg = k->key
		          ? pem_alg(k->key, k->key_len, (EVP_PKEY **)&k->pkey)
		          : NULL;
		if (!alg) {
			snprintf(why, why_len,
			         "--token-key: %s is not a PEM public key of "
			         "RSA or of EC P-256",
			         key_file);
			token_keys_free(k);
			return -1;
		}
	} else {
		return 0;
	}
	if (!k->key) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	snprintf(k->alg, sizeof(k->alg), "%s", alg);
	return 0;
}

void
token_keys_free(struct token_keys *k)
{
	if (k->key)
		memset(k->key, 0, k->key_len);
	free(k->key);
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
	k->key = NULL;
	k->key_len = 0;
	k->alg[0] = '\0';
}

/* The base64url alphabet (RFC 4648 section 5). */
static const char b64url_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 if s[0..len) is all base64url characters (no padding). */
static int
is_b64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!memchr(b64url_chars, s[i], sizeof(b64url_chars) - 1))
			return 0;
	return 1;
}

/*
 * Decode base64url (no padding) s[0..len) into a new NUL-terminated
 * buffer of *out_len bytes; NULL if it is not base64url (a character
 * outside its alphabet, '=' among them; len % 4 == 1) or out of memory.
 * OpenSSL's EVP_DecodeBlock() decodes it, made standard base64 (+ and /,
 * padded with '=') in a scratch copy: it counts the padding as zero bytes,
 * taken off again here.  Bits past the last byte are ignored.
 */
static char *
b64url_decode(const char *s, size_t len, size_t *out_len)
{
	size_t pad = (4 - len % 4) % 4, full = len + pad;
	char *std, *out;
	int n;

	if (len % 4 == 1 || full > INT_MAX || !is_b64url(s, len))
		return NULL;
	std = malloc(full + 1);
	out = malloc(full / 4 * 3 + 1);
	if (!std || !out) {
		free(std);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	memset(std + len, '=', pad);
	n = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)std,
	                    (int)full);
	free(std);
	if (n < 0 || (size_t)n != full / 4 * 3) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)n - pad;
	out[*out_len] = '\0';
	return out;
}

/*
 * The algorithm a PEM public key fixes: "RS256", "ES256", or NULL; the
 * key, parsed, into *out (the caller frees it).
 */
static const char *
pem_alg(const unsigned char *pem, size_t len, EVP_PKEY **out)
{
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	const char *alg = NULL;
	char group[64];

	if (pk && EVP_PKEY_base_id(pk) == EVP_PKEY_RSA)
		alg = "RS256";
	else if (pk && EVP_PKEY_base_id(pk) == EVP_PKEY_EC &&
	         EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL) &&
	         !strcmp(group, "prime256v1"))
		alg = "ES256";
	BIO_free(bio);
	if (!alg) {
		EVP_PKEY_free(pk);
		return NULL;
	}
	*out = pk;
	return alg;
}

/*
 * Verify an RS256 or ES256 signature sig (base64url) over
 * signed[0..len) with the key parsed at start: 1 if it is good.  OpenSSL
 * directly, not libjwt: libjwt 1.10 parses the PEM again for every token
 * (350-450 us a token, against some 30-60 here), and a reconnecting
 * crowd would stall the loop.  An ES256 signature is r and s, 32 bytes
 * each (JWS), made DER for OpenSSL.
 */
static int
verify_pkey(const struct token_keys *k, const char *signed_part, size_t len,
            const char *sig, size_t sig_len)
{
	unsigned char *der = NULL;
	size_t raw_len;
	char *raw = b64url_decode(sig, sig_len, &raw_len);
	const unsigned char *check = (const unsigned char *)raw;
	size_t check_len = raw_len;
	EVP_MD_CTX *ctx = NULL;
	int ok = 0;

	if (!raw)
		return 0;
	if (!strcmp(k->alg, "ES256")) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn((unsigned char *)raw, 32, NULL);
		BIGNUM *s = BN_bin2bn((unsigned char *)raw + 32, 32, NULL);
		int n;

		if (raw_len != 64 || !es || !r || !s ||
		    !ECDSA_SIG_set0(es, r, s)) {
			BN_free(r);
			BN_free(s);
			ECDSA_SIG_free(es);
			goto out;
		}
		n = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		if (n <= 0)
			goto out;
		check = der;
		check_len = (size_t)n;
	}
	ctx = EVP_MD_CTX_new();
	ok =
	    ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
	    EVP_DigestVerify(ctx, check, check_len,
	                     (const unsigned char *)signed_part, len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	free(raw);
	return ok;
}

/* Decode one part of a token as a JSON object; NULL if it is not one. */
static json_t *
part_object(const char *s, size_t len)
{
	size_t n;
	char *text = len ? b64url_decode(s, len, &n) : NULL;
	json_t *o =
	    text ? json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL) : NULL;

	free(text);
	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* A time claim: 0 absent, 1 read into *t, -1 not a number. */
static int
time_claim(json_t *claims, const char *name, double *t)
{
	json_t *v = json_object_get(claims, name);

	if (!v)
		return 0;
	if (!json_is_number(v))
		return -1;
	*t = json_number_value(v);
	return 1;
}

/* 1 if the aud claim (a string or an array of them) names audience. */
static int
audience_ok(json_t *claims, const char *audience)
{
	json_t *aud = json_object_get(claims, "aud"), *v;
	size_t i;

	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), audience);
	json_array_foreach(aud, i, v)
	{
		if (json_is_string(v) &&
		    !strcmp(json_string_value(v), audience))
			return 1;
	}
	return 0;
}

/* Add the topic name s[0..len) to out, if valid and there is room. */
static void
add_topic(struct token_claims *out, const char *s, size_t len)
{
	if (!topic_is_valid(s, len) || out->n == TOPIC_FILTER_MAX)
		return;
	memcpy(out->topics[out->n], s, len);
	out->topics[out->n++][len] = '\0';
}

/* The topics claim: an array of names, or one string "a,b". */
static void
read_topics(json_t *claims, struct token_claims *out)
{
	json_t *t = json_object_get(claims, "topics"), *v;
	size_t i;

	if (json_is_string(t)) {
		const char *p = json_string_value(t);

		while (*p) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);

			add_topic(out, p, len);
			if (!end)
				break;
			p = end + 1;
		}
		return;
	}
	json_array_foreach(t, i, v)
	{
		if (json_is_string(v))
			add_topic(out, json_string_value(v),
			          json_string_length(v));
	}
}

/* Check the claims of a token whose signature is good. */
static enum token_reason
check_claims(const struct token_keys *k, json_t *claims, time_t now,
             struct token_claims *out)
{
	double exp = 0, nbf = 0;
	int has_exp = time_claim(claims, "exp", &exp),
	    has_nbf = time_claim(claims, "nbf", &nbf);
	json_t *iss = json_object_get(claims, "iss");

	if (has_exp < 0 || has_nbf < 0)
		return TOKEN_MALFORMED;
	if (has_exp && (double)now > exp + (double)k->leeway)
		return TOKEN_EXPIRED;
	if (has_nbf && (double)now + (double)k->leeway < nbf)
		return TOKEN_NOT_YET_VALID;
	if (k->audience[0] && !audience_ok(claims, k->audience))
		return TOKEN_AUDIENCE;
	if (k->issuer[0] &&
	    (!json_is_string(iss) || strcmp(json_string_value(iss), k->issuer)))
		return TOKEN_ISSUER;
	memset(out, 0, sizeof(*out));
	/* Far beyond any time_t: taken as "does not expire". */
	out->exp = has_exp && exp > 0 && exp < 4e11 ? (time_t)exp : 0;
	read_topics(claims, out);
	return TOKEN_OK;
}

enum token_reason
token_check(const struct token_keys *k, const char *tok, size_t len, time_t now,
            struct token_claims *out)
{
	const char *dot1, *dot2, *sig;
	json_t *head = NULL, *claims = NULL, *alg;
	enum token_reason r = TOKEN_MALFORMED;
	char *copy = NULL;
	jwt_t *jwt = NULL;

	if (!len)
		return TOKEN_MISSING;
	if (len > TOKEN_MAX)
		return TOKEN_TOO_LARGE;
	/* header.payload.signature, each base64url */
	dot1 = memchr(tok, '.', len);
	dot2 =
	    dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - tok)))
		return TOKEN_MALFORMED;
	sig = dot2 + 1;
	head = part_object(tok, (size_t)(dot1 - tok));
	claims = part_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!head || !claims)
		goto out;
	if (!is_b64url(sig, len - (size_t)(sig - tok)))
		goto out;
	alg = json_object_get(head, "alg");
	if (!json_is_string(alg))
		goto out;
	r = TOKEN_ALGORITHM;
	if (!k->alg[0] || strcmp(json_string_value(alg), k->alg))
		goto out;
	/* The alg is ours: now the signature, with the key (never NULL). */
	r = TOKEN_SIGNATURE;
	if (sig == tok + len)
		goto out;
	if (k->pkey) {
		if (!verify_pkey(k, tok, (size_t)(dot2 - tok), sig,
		                 len - (size_t)(sig - tok)))
			goto out;
	} else {
		copy = strndup(tok, len);
		if (!copy || jwt_decode(&jwt, copy, k->key, (int)k->key_len) ||
		    !jwt)
			goto out;
	}
	r = check_claims(k, claims, now, out);
out:
	if (jwt)
		jwt_free(jwt);
	free(copy);
	json_decref(head);
	json_decref(claims);
	return r;
}
