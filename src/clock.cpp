/*
 * clock.cpp -- the one clock; see clock.h. A frozen clock keeps its wall
 * time in microseconds so that advancing it moves both kinds alike.
 */
#include "clock.h"

static int frozen;
static uint64_t frozen_wall_us, frozen_mono_us;

static uint64_t read_us(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

time_t clock_wall_s(void)
{
	return (time_t)(clock_wall_ms() / 1000);
}

uint64_t clock_wall_ms(void)
{
	return (frozen ? frozen_wall_us : read_us(CLOCK_REALTIME)) / 1000;
}

uint64_t clock_mono_us(void)
{
	return frozen ? frozen_mono_us : read_us(CLOCK_MONOTONIC);
}

uint64_t clock_mono_ms(void)
{
	return clock_mono_us() / 1000;
}

void clock_set(time_t wall_s, uint64_t mono_us)
{
	frozen = 1;
	frozen_wall_us = (uint64_t)wall_s * 1000000u;
	frozen_mono_us = mono_us;
}

void clock_advance_us(uint64_t us)
{
	frozen_wall_us += us;
	frozen_mono_us += us;
}

void clock_real(void)
{
	frozen = 0;
}
