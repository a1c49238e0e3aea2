/* fuzz_proxy.c: fuzz the PROXY protocol header a proxy sends first. */
#include "fuzz.h"

#include "proxyproto.h"

#include <arpa/inet.h>
#include <string.h>

/* 1 if s is a canonical IPv4 or IPv6 address, as inet_ntop writes it. */
static int
is_address(const char *s)
{
	unsigned char bin[16];
	char back[PROXY_IP_LEN];
	int af = strchr(s, ':') ? AF_INET6 : AF_INET;

	return inet_pton(af, s, bin) == 1 &&
	       inet_ntop(af, bin, back, sizeof(back)) && !strcmp(back, s);
}

/* Parse buf[0..len) and its first cut bytes; check they agree. */
static void
fuzz_proxy(const char *buf, size_t len, size_t cut)
{
	struct proxy_hdr h, hc;
	size_t used, used_cut;
	enum proxy_result res = proxy_parse(buf, len, &h, &used);
	enum proxy_result rc = proxy_parse(buf, cut, &hc, &used_cut);

	CHECK(res == PROXY_OK || res == PROXY_INCOMPLETE || res == PROXY_BAD);
	if (res != PROXY_OK) {
		CHECK(used == 0);
		/* Bad stays bad; what is unfinished was unfinished before. */
		CHECK(rc != PROXY_OK);
		if (res == PROXY_INCOMPLETE)
			CHECK(rc == PROXY_INCOMPLETE);
		/* Past the longest header, nothing is still unfinished. */
		if (res == PROXY_INCOMPLETE)
			CHECK(len < PROXY_V2_HEAD + PROXY_V2_LEN_MAX);
		return;
	}
	CHECK(used >= 15 && used <= len);
	CHECK(h.version == 1 || h.version == 2);
	CHECK(h.version == 2 || used <= PROXY_V1_MAX);
	CHECK(h.version == 1 || used <= PROXY_V2_HEAD + PROXY_V2_LEN_MAX);
	CHECK(h.local || (is_address(h.src) && h.src_port <= 65535));
	/* The header alone says the same; any less of it is unfinished. */
	CHECK(proxy_parse(buf, used, &hc, &used_cut) == PROXY_OK);
	CHECK(used_cut == used && !memcmp(&h, &hc, sizeof(h)));
	if (cut < used)
		CHECK(rc == PROXY_INCOMPLETE);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, cut;
	char *buf = fuzz_split(data, size, &len, &cut);

	if (!buf)
		return 0;
	fuzz_proxy(buf, len, cut);
	free(buf);
	return 0;
}
