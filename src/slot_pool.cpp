/*
 * slot_pool.cpp -- the shared stack of frame slots; see slot_pool.h for why
 * the slots are shared and handed out last-freed first.
 */
#include "slot_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static size_t round8(size_t n) { return (n + 7u) & ~(size_t)7u; }

size_t slot_pool_storage_size(uint32_t nslots, size_t stride)
{
	if (!nslots || !stride || nslots == SLOT_NONE)
		return 0;
	stride = round8(stride);
	size_t stack = round8((size_t)nslots * sizeof(uint32_t));
	if (stride > (SIZE_MAX / 2 - stack) / nslots)
		return 0;   /* does not fit this machine's address space */
	return stack + (size_t)nslots * stride;
}

static void attach(struct slot_pool *p, uint8_t *storage, uint32_t nslots, size_t stride)
{
	memset(p, 0, sizeof *p);
	p->stack = (uint32_t *)storage;
	p->base = storage + round8((size_t)nslots * sizeof(uint32_t));
	p->stride = round8(stride);
	p->nslots = nslots;
}

int slot_pool_use(struct slot_pool *p, uint8_t *storage, uint32_t nslots, size_t stride)
{
	if (!storage || ((uintptr_t)storage & 7u) || !slot_pool_storage_size(nslots, stride))
		return -1;
	attach(p, storage, nslots, stride);
	return 0;
}

int slot_pool_map(struct slot_pool *p, uint32_t nslots, size_t stride, char *err, size_t errlen)
{
	size_t bytes = slot_pool_storage_size(nslots, stride);

	memset(p, 0, sizeof *p);
	if (!bytes) {
		snprintf(err, errlen, "%u slots of %zu bytes do not fit this machine's address space", nslots, stride);
		return -1;
	}
	/* NORESERVE: a reservation, not a commitment. The worst case (every
	 * call stalled with a full ring) is what the options allow, but it
	 * should not count against the overcommit limit from the start */
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %zu bytes for %u slots: %s", bytes, nslots, strerror(errno));
		return -1;
	}
	attach(p, (uint8_t *)m, nslots, stride);
	p->map = m;
	p->map_bytes = bytes;
	return 0;
}

void slot_pool_unmap(struct slot_pool *p)
{
	if (p->map)
		munmap(p->map, p->map_bytes);
	memset(p, 0, sizeof *p);
}
