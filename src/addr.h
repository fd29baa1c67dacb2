/*
 * addr.h -- client addresses and CIDR lists, for per-address limits,
 * the exempt and trusted-proxy lists and the loopback rule of /stats.
 *
 * Every address is held in one 16-byte form (IPv4 as ::ffff:a.b.c.d), so a
 * single table and a single match routine serve both families. Parsing is
 * inet_pton's; nothing here touches sockets or allocates.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct addr {
	uint8_t b[16];
};

struct cidr {
	struct addr net;   /* already masked */
	uint8_t     bits;  /* prefix length over the 128-bit form */
};

#define ADDR_STR_MAX 46   /* INET6_ADDRSTRLEN */

/* "192.0.2.1" or "2001:db8::1" -> *out. Returns 0, or -1 if not an address. */
int addr_parse(const char *s, struct addr *out);

/* Same, for len bytes that need not be NUL-terminated (spaces trimmed). */
int addr_parse_n(const char *s, size_t len, struct addr *out);

struct sockaddr;

/* From a socket address (AF_INET or AF_INET6). 0, or -1 for other families. */
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out);

/* "10.0.0.0/8", "2001:db8::/32" or a bare address (/32, /128). 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);

int cidr_match(const struct cidr *c, const struct addr *a);
int cidr_list_match(const struct cidr *list, int n, const struct addr *a);

/* 127.0.0.0/8 or ::1. */
int addr_is_loopback(const struct addr *a);

/* Text form (IPv4-mapped addresses print as dotted quads). buf >= ADDR_STR_MAX. */
void addr_format(const struct addr *a, char *buf, size_t len);

#define CIDR_STR_MAX (ADDR_STR_MAX + 4)

/* "192.0.2.0/24", "2001:db8::/32" (IPv4 prefixes in IPv4 terms). buf >= CIDR_STR_MAX. */
void cidr_format(const struct cidr *c, char *buf, size_t len);

/* 1 if the two are the same network (same prefix length and bits). */
int cidr_equal(const struct cidr *a, const struct cidr *b);
