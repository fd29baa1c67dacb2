/*
 * quality.h -- one call's media quality, measured on arrival: how evenly
 * the caller's frames arrive against Vonage's 20 ms frame clock, how long
 * each frame stays in this server, and how loud the caller is.
 *
 * ws_audio.cpp calls quality_frame() with each whole binary frame and its
 * arrival time (clock_mono_us), and quality_dwell() with the time a queued
 * frame waited between being queued (read, or made by the app) and being
 * written. Everything is integer arithmetic on a fixed struct inside the
 * call's stats row (stats.h): no allocation, no floating point per frame.
 * The figures an operator reads (jitter in ms, dBFS, the score) are
 * computed when a page or log line asks for them (quality_read()).
 *
 * Vonage frames carry no sequence number or timestamp, so the sender's
 * clock is taken to be the 20 ms grid: the frame clock starts at the first
 * frame, and
 *   - jitter is RFC 3550's interarrival estimator (A.8) with the transit
 *     difference D = interarrival - 20 ms, gain 1/16;
 *   - a gap is an interarrival of 2.5 frame periods or more: round(D/20 ms)
 *     - 1 frames were missing from the clock at that moment (counted, and
 *     the longest gap in ms kept);
 *   - a burst frame arrives under 5 ms after the previous one, faster than
 *     real time (what follows a stall when the sender catches up);
 *   - behind is how many frames the arrivals are short of the clock at the
 *     latest frame: gaps that were never made up.
 * Over TCP nothing is lost in transit, so a gap is audio that came late
 * (or never: behind); either way a listener heard a hole.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define QUALITY_FRAME_US 20000u
/* Upper bounds (µs) of the dwell-time histogram's buckets; a last one is +Inf. */
#define QUALITY_DWELL_BUCKETS 12
extern const uint32_t quality_dwell_bounds_us[QUALITY_DWELL_BUCKETS];

struct quality {
	uint64_t first_us, last_us;   /* arrival of the first and the latest frame */
	uint32_t frames;              /* frames measured */
	uint32_t jitter16_us;         /* RFC 3550 J, in µs scaled by 16 */
	uint32_t gaps, gap_frames;    /* stalls, and frames missing in them */
	uint32_t longest_gap_us;      /* longest interarrival counted as a gap */
	uint32_t burst_frames;
	uint32_t silent_frames;       /* frame RMS under -60 dBFS */
	uint32_t clipped;             /* samples at full scale */
	uint64_t sum_sq;              /* sum of sample^2 over the call ... */
	uint64_t samples;             /* ... over this many samples */
	uint32_t level_sq;            /* mean square of recent frames (about the last 0.3 s) */
	uint32_t dwell[QUALITY_DWELL_BUCKETS + 1];
	uint64_t dwell_sum_us;        /* for /metrics' histogram _sum */
};

/*
 * Closed calls, summed for /metrics' histograms (fixed buckets, upper
 * bounds below; each has a last +Inf bucket): per call its jitter, its gap
 * frames and its score at close; per frame the dwell time.
 */
#define QUALITY_HIST 7
extern const double quality_jitter_bounds_s[QUALITY_HIST];
extern const double quality_gap_bounds[QUALITY_HIST];
extern const double quality_mos_bounds[QUALITY_HIST];
struct quality_totals {
	uint64_t calls;                              /* calls with at least one frame */
	uint64_t jitter[QUALITY_HIST + 1], gaps[QUALITY_HIST + 1], mos[QUALITY_HIST + 1];
	double   jitter_sum_s, mos_sum;
	uint64_t gap_sum;
	uint64_t dwell[QUALITY_DWELL_BUCKETS + 1];   /* frames written */
	uint64_t dwell_sum_us;
};

/* What a page shows of one call (quality_read()). */
struct quality_report {
	double   jitter_ms;
	uint32_t gaps, gap_frames, burst_frames;
	double   longest_gap_ms;
	uint32_t behind;              /* frames the arrivals are short of the clock */
	double   dwell_p50_ms, dwell_p99_ms;   /* bucket upper bounds; 0 when nothing was written */
	double   level_dbfs;          /* whole call; -100 for silence or no audio */
	double   recent_dbfs;         /* the last few frames */
	double   silent_pct;
	uint32_t clipped;
	double   mos;                 /* 1.0 .. 4.5, quality_mos() */
};

/*
 * One whole binary frame arrived at now_us: pcm is little-endian 16-bit
 * samples (len/2 of them; an odd last byte is ignored).
 */
void quality_frame(struct quality *q, uint64_t now_us, const uint8_t *pcm, size_t len);

/* A frame was written us µs after it was queued. */
void quality_dwell(struct quality *q, uint32_t us);

/* The dwell bucket for us (0..QUALITY_DWELL_BUCKETS; the last is +Inf). */
int quality_dwell_bucket(uint32_t us);

/* The operator's figures, as of the latest frame. */
void quality_read(const struct quality *q, struct quality_report *out);

/* Just the score (quality_mos() of the call): cheap enough to rank every call per page. */
double quality_score(const struct quality *q);

/*
 * The score: a simplified ITU-T G.107 E-model (the form VoIP monitors use):
 *   Le = dwell_ms + 2 * jitter_ms + 10          effective latency, ms
 *   R  = 93.2 - (Le < 160 ? Le / 40 : (Le - 120) / 10) - 2.5 * late_pct
 *   MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R), R clamped to 0..100
 * with late_pct the share of frames that were missing from the clock when
 * due (gap frames / frames expected), in per cent. 4.4 is a clean call;
 * under 3.6 callers notice.
 */
double quality_mos(double dwell_ms, double jitter_ms, double late_pct);

/* Add q's dwell histogram into sum (for /metrics: closed calls + open). */
void quality_dwell_add(uint64_t sum[QUALITY_DWELL_BUCKETS + 1], const struct quality *q);

/* A call closed: its figures into t (its dwell times whatever its frames). */
void quality_close(struct quality_totals *t, const struct quality *q);

/* The bucket (0..QUALITY_HIST, the last +Inf) of v under bounds. */
int quality_bucket(const double bounds[QUALITY_HIST], double v);
