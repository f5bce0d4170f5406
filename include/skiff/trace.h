/*
 * Logging to stderr: one line per event with a UTC timestamp, the level and
 * a subsystem tag, e.g.
 *   2026-11-21T06:00:00.123Z INFO  [net] listening on 127.0.0.1:9092
 * The macros skip formatting entirely below the current level. This is the
 * logger ("trace"); "log" in skiff means the log store (src/log/,
 * skiff/logstore.h).
 */
#ifndef SKIFF_TRACE_H
#define SKIFF_TRACE_H

typedef enum sk_trace_level {
    SK_TRACE_DEBUG = 0,
    SK_TRACE_INFO = 1,
    SK_TRACE_WARN = 2,
    SK_TRACE_ERROR = 3,
} sk_trace_level;

/* Current level; messages below it are dropped. Default SK_TRACE_INFO. */
extern sk_trace_level sk_trace_threshold;

/* Parses "debug", "info", "warn"/"warning", "error" (any case); -1 if unknown. */
int sk_trace_level_parse(const char *name);
/* Writes one line (use the macros). `subsys` is a short tag such as "net". */
void sk_trace_write(sk_trace_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sk_trace(level, subsys, ...)                        \
    do {                                                    \
        if ((level) >= sk_trace_threshold)                  \
            sk_trace_write((level), (subsys), __VA_ARGS__); \
    } while (0)
#define sk_debug(subsys, ...) sk_trace(SK_TRACE_DEBUG, subsys, __VA_ARGS__)
#define sk_info(subsys, ...) sk_trace(SK_TRACE_INFO, subsys, __VA_ARGS__)
#define sk_warn(subsys, ...) sk_trace(SK_TRACE_WARN, subsys, __VA_ARGS__)
#define sk_error(subsys, ...) sk_trace(SK_TRACE_ERROR, subsys, __VA_ARGS__)

#endif
