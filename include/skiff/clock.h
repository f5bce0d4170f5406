/*
 * The two clocks, in milliseconds: the wall clock for what Kafka stores or
 * compares with clients (record and commit timestamps, expiry times), the
 * monotonic clock for durations and timeouts on this broker. Modules whose
 * tests need a clock of their own take a `now_ms` callback in their options
 * and fall back to sk_clock_wall_ms.
 */
#ifndef SKIFF_CLOCK_H
#define SKIFF_CLOCK_H

#include <stdint.h>

/* CLOCK_REALTIME: ms since the Unix epoch. */
int64_t sk_clock_wall_ms(void);
/* CLOCK_MONOTONIC: ms since an arbitrary start; never goes back. */
int64_t sk_clock_mono_ms(void);

#endif
