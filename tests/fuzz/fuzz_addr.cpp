/*
 * fuzz_addr.cpp -- libFuzzer harness for src/addr.cpp: the client address a
 * trusted proxy's X-Forwarded-For header hands us (src/server.cpp
 * server_client_addr), and the CIDR lists of --limit-exempt/--trusted-proxy.
 *
 * Input: fields split at 0xff bytes (fuzz.h): X-Forwarded-For value 0xff
 * CIDR 0xff address.
 * Checks: the right-most X-Forwarded-For entry, when it parses, formats to
 * a short string of address characters that parses back to the same
 * address (what reaches logs, stats and the per-address table); a parsed
 * CIDR has a prefix within 128 bits (96..128 for IPv4), is stored masked
 * and matches its own network; an address matches exactly when its masked
 * form equals the network; the loopback rule agrees with 127/8 and ::1.
 */
#include "fuzz.h"

#include "addr.h"

static void check_roundtrip(const struct addr *a)
{
	char buf[ADDR_STR_MAX];
	struct addr b;

	addr_format(a, buf, sizeof buf);
	size_t n = strlen(buf);
	FUZZ_CHECK(n > 0 && n < ADDR_STR_MAX);
	FUZZ_CHECK(strspn(buf, "0123456789abcdef.:") == n);
	FUZZ_CHECK(!addr_parse(buf, &b) && !memcmp(a->b, b.b, 16));
}

static int masked_equal(const struct cidr *c, const struct addr *a)
{
	for (unsigned i = 0; i < 128; i++) {
		unsigned bit = 0x80u >> (i % 8);
		if (i < c->bits && (a->b[i / 8] & bit) != (c->net.b[i / 8] & bit))
			return 0;
	}
	return 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_field f[3];
	struct addr a, m;
	struct cidr c;

	fuzz_split(data, size, f, 3);

	/* as server_client_addr: lws_hdr_copy into 256 bytes, right-most entry */
	char xff[256];
	size_t n = f[0].len < sizeof xff - 1 ? f[0].len : sizeof xff - 1;
	memcpy(xff, f[0].p, n);
	xff[n] = '\0';
	const char *last = strrchr(xff, ',');
	last = last ? last + 1 : xff;
	if (!addr_parse_n(last, strlen(last), &a)) {
		check_roundtrip(&a);
		static const uint8_t lo6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		static const uint8_t v4p[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		int lo = (!memcmp(a.b, v4p, 12) && a.b[12] == 127) || !memcmp(a.b, lo6, 16);
		FUZZ_CHECK(addr_is_loopback(&a) == lo);
	}

	char *cs = fuzz_strdup(&f[1]);
	if (!cidr_parse(cs, &c)) {
		FUZZ_CHECK(c.bits <= 128);
		FUZZ_CHECK(cidr_match(&c, &c.net));
		struct addr net = c.net;
		FUZZ_CHECK(masked_equal(&c, &net));
		check_roundtrip(&c.net);
		char *as = fuzz_strdup(&f[2]);
		if (!addr_parse(as, &m)) {
			FUZZ_CHECK(cidr_match(&c, &m) == masked_equal(&c, &m));
			FUZZ_CHECK(cidr_list_match(&c, 1, &m) == cidr_match(&c, &m));
			FUZZ_CHECK(!cidr_list_match(&c, 0, &m));
		}
		free(as);
	}
	free(cs);
	return 0;
}
