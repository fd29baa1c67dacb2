/*
 * util.h -- small helpers shared by caller-sim's modules: monotonic time,
 * random bytes and Vonage-style UUIDs.
 *
 * Time is read through clock_gettime(CLOCK_MONOTONIC), a vDSO call that
 * costs tens of nanoseconds, so the load engine reads it per frame freely.
 * Random bytes come from getrandom(2); nothing here allocates.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define UTIL_UUID_LEN 36   /* "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

/* Monotonic clock in nanoseconds. */
uint64_t util_now_ns(void);

/* CLOCK_REALTIME in nanoseconds: the clock of the kernel's receive timestamps. */
uint64_t util_realtime_ns(void);

/* Fill buf with len random bytes. Returns 0, or -1 if the kernel refused. */
int util_random(void *buf, size_t len);

/* A random (version 4) UUID, lower-case hex, into out[UTIL_UUID_LEN + 1]. Returns 0 or -1. */
int util_uuid4(char *out);
