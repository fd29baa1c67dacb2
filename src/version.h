/*
 * version.h -- the one place the release version is written down.
 *
 * Shown on /stats, in /stats.json ("version"), in /metrics
 * (caller_echo_build_info) and in the start-up log line.
 */
#pragma once

#define CALLER_ECHO_VERSION "0.5.0"
