/*
 * tone.h -- a sine oscillator for the voice apps (the parrot's beep, the
 * robot's modulator) without libm: a 256-entry table, linearly
 * interpolated. Linking libm for two calls to sin() cost every process
 * ~0.35 MiB of resident memory (docs/benchmarks.md); this costs 512 bytes.
 *
 * The phase is a 32-bit fraction of one cycle, so an accumulator wraps by
 * itself: phase += tone_step(hz, rate) per sample.
 */
#pragma once
#include <stdint.h>

/* sin(2 pi phase / 2^32) in Q15 (-32767..32767), within 4 (0.012% of full scale). */
int16_t tone_sin(uint32_t phase);

/* The phase step per sample for hz at rate samples per second. */
static inline uint32_t tone_step(uint32_t hz, uint32_t rate)
{
	return (uint32_t)(((uint64_t)hz << 32) / rate);
}
