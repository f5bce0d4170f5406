/*
 * Logging to stderr: one line per event with a UTC timestamp, the level and
 * a subsystem tag, e.g.
 *   2026-11-21T06:00:00.123Z INFO  [net] listening on 127.0.0.1:9092
 * The macros skip formatting entirely below the current level.
 */
#ifndef SKIFF_LOG_H
#define SKIFF_LOG_H

typedef enum sk_log_level {
    SK_LOG_DEBUG = 0,
    SK_LOG_INFO = 1,
    SK_LOG_WARN = 2,
    SK_LOG_ERROR = 3,
} sk_log_level;

/* Current level; messages below it are dropped. Default SK_LOG_INFO. */
extern sk_log_level sk_log_threshold;

/* Parses "debug", "info", "warn"/"warning", "error" (any case); -1 if unknown. */
int sk_log_level_parse(const char *name);
/* Writes one line (use the macros). `subsys` is a short tag such as "net". */
void sk_log_write(sk_log_level level, const char *subsys, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define sk_log(level, subsys, ...)                          \
    do {                                                    \
        if ((level) >= sk_log_threshold)                    \
            sk_log_write((level), (subsys), __VA_ARGS__);   \
    } while (0)
#define sk_debug(subsys, ...) sk_log(SK_LOG_DEBUG, subsys, __VA_ARGS__)
#define sk_info(subsys, ...) sk_log(SK_LOG_INFO, subsys, __VA_ARGS__)
#define sk_warn(subsys, ...) sk_log(SK_LOG_WARN, subsys, __VA_ARGS__)
#define sk_error(subsys, ...) sk_log(SK_LOG_ERROR, subsys, __VA_ARGS__)

#endif
