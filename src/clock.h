/*
 * clock.h -- the server's one clock, read through one function per kind:
 * wall-clock seconds (what token ages, blocks and the stats are counted
 * in) and monotonic micro- and milliseconds (what limits, deadlines and the
 * quality figures are measured with; libwebsockets schedules its timers on
 * the same CLOCK_MONOTONIC). Every module asks here, never time() or
 * lws_now_usecs() itself, so a test can stop or move time for all of them
 * at once (clock_set).
 */
#pragma once
#include <stdint.h>
#include <time.h>

time_t   clock_wall_s(void);    /* unix seconds */
uint64_t clock_wall_ms(void);   /* unix milliseconds (log timestamps) */
uint64_t clock_mono_us(void);   /* monotonic microseconds */
uint64_t clock_mono_ms(void);

/*
 * Tests: from now on the clock says wall_s and mono_us, and only moves when
 * told (clock_advance_us moves both); clock_real() gives the real one back.
 */
void clock_set(time_t wall_s, uint64_t mono_us);
void clock_advance_us(uint64_t us);
void clock_real(void);
