/* fuzz_token.c: fuzz the readers' token checker (token.c), with an HS256
 * secret, with ES256 and RS256 keys made here, and with none.  The first byte
 * picks a mode: odd, the input's "header.claims" part is signed here with
 * the secret (so the claims are reached, not only the signature check);
 * even, the input is the whole token as sent. */
#include "fuzz.h"

#include "../helpers/b64url.h"
#include "token.h"
#include "topics.h"

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <time.h>

#define SECRET "fuzz secret"

/* Check tok[0..len) with keys k; the invariants of any answer. */
static enum token_reason
check(const struct token_keys *k, const char *tok, size_t len)
{
	struct token_claims c;
	enum token_reason r = token_check(k, tok, len, 1750750200, &c);

	CHECK(r >= TOKEN_OK && r < TOKEN_REASONS && r != TOKEN_NOT_GRANTED);
	CHECK(strcmp(token_reason_name(r), "") != 0);
	if (len > TOKEN_MAX)
		CHECK(r == TOKEN_TOO_LARGE);
	if (!len)
		CHECK(r == TOKEN_MISSING);
	if (r == TOKEN_OK) {
		CHECK(k->alg[0]);
		CHECK(c.n >= 0 && c.n <= TOPIC_FILTER_MAX);
		for (int i = 0; i < c.n; i++)
			CHECK(topic_is_valid(c.topics[i], strlen(c.topics[i])));
	}
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct token_keys hs, none, es, rs;
	static int ready;
	char why[128], *tok;
	size_t len;

	if (!ready) {
		CHECK(!token_keys_load(&hs, SECRET, NULL, NULL, why,
		                       sizeof(why)));
		hs.leeway = 30;
		/* Public keys of their own (no file): the OpenSSL path. */
		es.pkey = EVP_EC_gen("P-256");
		rs.pkey = EVP_RSA_gen(2048);
		CHECK(es.pkey && rs.pkey);
		strcpy(es.alg, "ES256");
		strcpy(rs.alg, "RS256");
		ready = 1;
	}
	if (!size)
		return 0;
	len = size - 1;
	/* room for ".", a signature and what exact copies need */
	tok = malloc(len + 64);
	CHECK(tok);
	memcpy(tok, data + 1, len);
	if ((data[0] & 1) && len <= TOKEN_MAX) {
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int ml = 0;

		HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET),
		     (const unsigned char *)tok, len, mac, &ml);
		tok[len++] = '.';
		len += b64url_encode(tok + len, mac, ml);
	}
	check(&hs, tok, len);
	/* Nobody here holds their private keys: never valid. */
	CHECK(check(&es, tok, len) != TOKEN_OK);
	CHECK(check(&rs, tok, len) != TOKEN_OK);
	/* With no key configured, nothing is ever valid. */
	CHECK(check(&none, tok, len) != TOKEN_OK);
	free(tok);
	return 0;
}
