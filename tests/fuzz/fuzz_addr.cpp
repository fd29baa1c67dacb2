/*
 * fuzz_addr.cpp -- libFuzzer harness for the client address: src/peer.cpp
 * peer_resolve (the rule the server applies to every connection: the TCP
 * peer, or behind a trusted proxy its X-Forwarded-For's right-most entry)
 * and src/addr.cpp (parsing, CIDR lists of --limit-exempt/--trusted-proxy).
 *
 * Input: fields split at 0xff bytes (fuzz.h): X-Forwarded-For value 0xff
 * CIDR (the trusted proxy) 0xff address (the TCP peer).
 * Checks: peer_resolve gives the TCP peer unless it is the trusted proxy;
 * then exactly the text after the header's last comma, parsed, or the
 * all-zero "unknown" address (never loopback) when that is not an address
 * or the header is over PEER_XFF_MAX; a resolved address formats to a
 * short string of address characters that parses back to the same
 * address (what reaches logs, stats and the per-address table); a parsed
 * CIDR has a prefix within 128 bits (96..128 for IPv4), is stored masked
 * and matches its own network; an address matches exactly when its masked
 * form equals the network; the loopback rule agrees with 127/8 and ::1.
 */
#include "fuzz.h"

#include "addr.h"
#include "peer.h"

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

	/* the right-most entry, found here without peer.cpp's code */
	size_t comma = f[0].len;
	while (comma && f[0].p[comma - 1] != ',')
		comma--;
	struct addr want;
	int want_ok = f[0].len <= PEER_XFF_MAX && !addr_parse_n(f[0].p + comma, f[0].len - comma, &want);
	if (want_ok) {
		check_roundtrip(&want);
		static const uint8_t lo6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		static const uint8_t v4p[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		int lo = (!memcmp(want.b, v4p, 12) && want.b[12] == 127) || !memcmp(want.b, lo6, 16);
		FUZZ_CHECK(addr_is_loopback(&want) == lo);
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

			/* the product's rule, on an exactly sized copy of the header */
			char *xff = (char *)malloc(f[0].len ? f[0].len : 1);
			FUZZ_CHECK(xff);
			memcpy(xff, f[0].p, f[0].len);
			int r = peer_resolve(&m, xff, f[0].len, &c, 1, &a);
			if (!cidr_match(&c, &m)) {
				FUZZ_CHECK(r == 0 && !memcmp(a.b, m.b, 16));   /* not the proxy: header ignored */
			} else if (want_ok) {
				FUZZ_CHECK(r == 0 && !memcmp(a.b, want.b, 16));
				check_roundtrip(&a);
			} else {
				static const struct addr zero = {};
				FUZZ_CHECK(r == -1 && !memcmp(&a, &zero, sizeof a) && !addr_is_loopback(&a));
			}
			/* no header at all: the TCP peer, proxy or not */
			FUZZ_CHECK(!peer_resolve(&m, NULL, 0, &c, 1, &a) && !memcmp(a.b, m.b, 16));
			free(xff);
		}
		free(as);
	}
	free(cs);
	return 0;
}
