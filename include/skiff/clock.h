/*
 * The wall clock: the one reading of CLOCK_REALTIME for the modules that
 * timestamp records and run deadlines (Kafka's Time.milliseconds). Modules
 * whose tests drive time take an injectable clock (a now_ms callback) and
 * fall back to this one.
 */
#ifndef SKIFF_CLOCK_H
#define SKIFF_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t sk_wall_clock_ms(void);

#endif
