/* test_token.c: the token checker (token.c): tokens minted here with
 * OpenSSL (HS256, RS256), each way one can be wrong refused with its
 * reason; and the private topics in topic filters (topics.c). */
#include "unit.h"

#include "../helpers/b64url.h"
#include "token.h"
#include "topics.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define NOW    1750750200 /* 2025-06-24T07:30:00Z */
#define SECRET "unit secret"

/* A token of header and claims (JSON texts), signed: HS256 with key
 * (hmac), RS256 with pkey, or with nothing. */
static void
mint(char *out, const char *header, const char *claims, const char *hmac,
     EVP_PKEY *pkey)
{
	unsigned char sig[512];
	size_t sig_len = 0;
	unsigned int hl = 0;

	out[0] = '\0';
	b64url_encode(out + strlen(out), (const unsigned char *)header,
	              strlen(header));
	strcat(out, ".");
	b64url_encode(out + strlen(out), (const unsigned char *)claims,
	              strlen(claims));
	if (hmac) {
		HMAC(EVP_sha256(), hmac, (int)strlen(hmac),
		     (const unsigned char *)out, strlen(out), sig, &hl);
		sig_len = hl;
	} else if (pkey) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		sig_len = sizeof(sig);
		assert_int_equal(
		    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey), 1);
		assert_int_equal(EVP_DigestSign(ctx, sig, &sig_len,
		                                (const unsigned char *)out,
		                                strlen(out)),
		                 1);
		EVP_MD_CTX_free(ctx);
	}
	strcat(out, ".");
	b64url_encode(out + strlen(out), sig, sig_len);
}

static enum token_reason
check(const struct token_keys *k, const char *tok, struct token_claims *c)
{
	return token_check(k, tok, strlen(tok), NOW, c);
}

static void
test_token_hs256(void **state)
{
	struct token_keys k = {0};
	struct token_claims c;
	char why[200], tok[4096], big[TOKEN_MAX + 2];
	static const char hs[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const struct {
		const char *claims, *key;
		enum token_reason want;
	} cases[] = {
	    {"{\"exp\":1750750260,\"topics\":[\"markets\"]}", SECRET, TOKEN_OK},
	    {"{\"exp\":1750750180}", SECRET, TOKEN_OK}, /* within 30 s */
	    {"{\"exp\":1750750100}", SECRET, TOKEN_EXPIRED},
	    {"{\"nbf\":1750750220}", SECRET, TOKEN_OK},
	    {"{\"nbf\":1750750300}", SECRET, TOKEN_NOT_YET_VALID},
	    {"{\"exp\":\"soon\"}", SECRET, TOKEN_MALFORMED},
	    {"{\"topics\":[\"markets\"]}", "other", TOKEN_SIGNATURE},
	    {"{\"aud\":\"x\"}", SECRET, TOKEN_AUDIENCE},
	    {"{\"aud\":[\"x\",\"news\"],\"iss\":\"me\"}", SECRET, TOKEN_OK},
	    {"{\"aud\":\"news\",\"iss\":\"you\"}", SECRET, TOKEN_ISSUER},
	    {"[1]", SECRET, TOKEN_MALFORMED},
	};

	(void)state;
	assert_int_equal(
	    token_keys_load(&k, SECRET, NULL, NULL, why, sizeof(why)), 0);
	assert_string_equal(k.alg, "HS256");
	k.leeway = 30;
	/* Without aud/iss configured, neither is checked. */
	mint(tok, hs, "{\"aud\":\"x\"}", SECRET, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_OK);
	snprintf(k.audience, sizeof(k.audience), "news");
	snprintf(k.issuer, sizeof(k.issuer), "me");
	for (size_t i = 0; i < N_OF(cases); i++) {
		char claims[256];

		/* aud/iss right unless the case is about them */
		snprintf(claims, sizeof(claims), "%s", cases[i].claims);
		if (!strstr(claims, "aud") && claims[0] == '{')
			snprintf(claims, sizeof(claims),
			         "{\"aud\":\"news\",\"iss\":\"me\",%s",
			         cases[i].claims + 1);
		mint(tok, hs, claims, cases[i].key, NULL);
		CHECK_INT(claims, check(&k, tok, &c), cases[i].want);
	}
	mint(tok, hs,
	     "{\"aud\":\"news\",\"iss\":\"me\",\"exp\":1750750260,"
	     "\"topics\":\"markets,bad name,sport\"}",
	     SECRET, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_OK);
	assert_int_equal(c.exp, 1750750260);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.topics[0], "markets");
	assert_string_equal(c.topics[1], "sport");

	/* alg none, another alg, no alg; tampered claims; not a JWT. */
	mint(tok, "{\"alg\":\"none\"}", "{\"aud\":\"news\",\"iss\":\"me\"}",
	     NULL, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_ALGORITHM);
	mint(tok, "{\"alg\":\"HS512\"}", "{}", SECRET, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_ALGORITHM);
	mint(tok, "{\"typ\":\"JWT\"}", "{}", SECRET, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_MALFORMED);
	mint(tok, hs, "{\"aud\":\"news\",\"iss\":\"me\",\"topics\":[\"a\"]}",
	     SECRET, NULL);
	tok[strlen(tok) - 1] ^= 1; /* the signature */
	assert_int_equal(check(&k, tok, &c), TOKEN_SIGNATURE);
	*strrchr(tok, '.') = '\0';
	assert_int_equal(check(&k, tok, &c), TOKEN_MALFORMED);
	strcat(tok, ".");
	assert_int_equal(check(&k, tok, &c), TOKEN_SIGNATURE);
	assert_int_equal(check(&k, "a.b.c.d", &c), TOKEN_MALFORMED);
	assert_int_equal(check(&k, "e30.e30.!!", &c), TOKEN_MALFORMED);
	assert_int_equal(check(&k, "", &c), TOKEN_MISSING);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(check(&k, big, &c), TOKEN_TOO_LARGE);
	assert_string_equal(token_reason_name(TOKEN_NOT_YET_VALID),
	                    "not_yet_valid");
	token_keys_free(&k);
}

/*
 * A token's parts are base64url and nothing else: no padding, no + or /
 * (standard base64), no blanks, never 4n + 1 characters; bits past the
 * last byte are ignored.  A part that decodes gets as far as the
 * signature (not the one it needs); one that does not is malformed.
 */
static void
test_token_base64url(void **state)
{
	static const char hs[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	static const struct {
		const char *claims; /* {"k":">>>"}, {"k":"???"} and {} */
		enum token_reason want;
	} cases[] = {
	    {"eyJrIjoiPj4-In0", TOKEN_SIGNATURE},
	    {"eyJrIjoiPz8_In0", TOKEN_SIGNATURE},
	    {"e30", TOKEN_SIGNATURE},
	    {"e31", TOKEN_SIGNATURE}, /* the last 2 bits are not 0 */
	    {"eyJrIjoiPj4+In0", TOKEN_MALFORMED},
	    {"eyJrIjoiPz8/In0", TOKEN_MALFORMED},
	    {"eyJrIjoiPj4-In0=", TOKEN_MALFORMED},
	    {"e30=", TOKEN_MALFORMED},
	    {" e30", TOKEN_MALFORMED},
	    {"e30\n", TOKEN_MALFORMED},
	    {"e3 0", TOKEN_MALFORMED},
	    {"e30aa", TOKEN_MALFORMED},
	    {"e", TOKEN_MALFORMED},
	};
	struct token_keys k = {0};
	struct token_claims c;
	char why[200], tok[512];

	(void)state;
	assert_int_equal(
	    token_keys_load(&k, SECRET, NULL, NULL, why, sizeof(why)), 0);
	for (size_t i = 0; i < N_OF(cases); i++) {
		b64url_encode(tok, (const unsigned char *)hs, strlen(hs));
		snprintf(tok + strlen(tok), sizeof(tok) - strlen(tok),
		         ".%s.AAAA", cases[i].claims);
		CHECK_INT(cases[i].claims, check(&k, tok, &c), cases[i].want);
	}
	/* The signature's part too. */
	b64url_encode(tok, (const unsigned char *)hs, strlen(hs));
	strcat(tok, ".e30.AAA=");
	assert_int_equal(check(&k, tok, &c), TOKEN_MALFORMED);
	token_keys_free(&k);
}

static void
test_token_rs256_confusion(void **state)
{
	EVP_PKEY *pkey = EVP_RSA_gen(2048);
	struct token_keys k = {0};
	struct token_claims c;
	char why[200], tok[4096], path[] = "/tmp/tickerd-unit-key-XXXXXX",
	                          pem[4096];
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w+");
	size_t n;

	(void)state;
	assert_non_null(pkey);
	assert_non_null(fp);
	PEM_write_PUBKEY(fp, pkey);
	rewind(fp);
	n = fread(pem, 1, sizeof(pem) - 1, fp);
	pem[n] = '\0';
	fclose(fp);
	assert_int_equal(
	    token_keys_load(&k, NULL, NULL, path, why, sizeof(why)), 0);
	assert_string_equal(k.alg, "RS256");
	mint(tok, "{\"alg\":\"RS256\"}", "{\"topics\":[\"m\"]}", NULL, pkey);
	assert_int_equal(check(&k, tok, &c), TOKEN_OK);
	assert_int_equal(c.n, 1);
	/* HS256 whose secret is the public key's PEM: the classic attack */
	mint(tok, "{\"alg\":\"HS256\"}", "{\"topics\":[\"m\"]}", pem, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_ALGORITHM);
	mint(tok, "{\"alg\":\"none\"}", "{\"topics\":[\"m\"]}", NULL, NULL);
	assert_int_equal(check(&k, tok, &c), TOKEN_ALGORITHM);
	token_keys_free(&k);
	/* Not a key: refused at start, the reason says which file. */
	assert_int_equal(
	    token_keys_load(&k, NULL, NULL, "/nonexistent", why, sizeof(why)),
	    -1);
	assert_non_null(strstr(why, "/nonexistent"));
	/* No key at all: no alg, every token refused as algorithm. */
	assert_int_equal(
	    token_keys_load(&k, NULL, NULL, NULL, why, sizeof(why)), 0);
	assert_int_equal(check(&k, tok, &c), TOKEN_ALGORITHM);
	unlink(path);
	EVP_PKEY_free(pkey);
}

static void
test_private_filters(void **state)
{
	struct topic_filter f, g;
	char why[128], locked[TOPIC_FILTER_MAX][TOPIC_MAX_LEN + 1];
	static const char grants[][TOPIC_MAX_LEN + 1] = {"markets", "sport",
	                                                 "insider-x"};

	(void)state;
	assert_int_equal(
	    topics_private_set("markets,insider-*", why, sizeof(why)), 0);
	assert_true(topic_is_private("insider-x"));
	assert_false(topic_is_private("insider"));
	assert_int_equal(
	    topic_filter_parse(&f, "world,markets", why, sizeof(why)), 0);
	assert_false(topic_filter_match(&f, "markets"));
	assert_true(topic_filter_match(&f, "world"));
	assert_int_equal(topic_filter_locked(&f, locked), 1);
	assert_string_equal(locked[0], "markets");
	g = f;
	topic_filter_grant(&g, grants, 3);
	assert_int_equal(g.granted, 1); /* only what it chose, and private */
	assert_true(topic_filter_match(&g, "markets"));
	assert_false(topic_filter_equal(&f, &g));
	assert_int_equal(topic_filter_locked(&g, locked), 0);
	/* Every topic: every public one and the granted private ones. */
	assert_int_equal(topic_filter_parse(&f, NULL, why, sizeof(why)), 0);
	assert_false(topic_filter_match(&f, "insider-x"));
	assert_true(topic_filter_match(&f, "anything"));
	topic_filter_grant(&f, grants, 3);
	assert_int_equal(f.granted, 2);
	assert_true(topic_filter_match(&f, "insider-x"));
	assert_false(topic_filter_match(&f, "insider-y"));
	assert_int_equal(topics_private_set("bad name", why, sizeof(why)), -1);
	assert_false(topic_is_private("markets"));
	assert_int_equal(topics_private_set(NULL, why, sizeof(why)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_token_hs256),
	    cmocka_unit_test(test_token_base64url),
	    cmocka_unit_test(test_token_rs256_confusion),
	    cmocka_unit_test(test_private_filters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
