/* Level-gated logging to stderr with UTC timestamps (see skiff/log.h). */
#include "skiff/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

sk_log_level sk_log_threshold = SK_LOG_INFO;

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

int sk_log_level_parse(const char *name)
{
    if (!strcasecmp(name, "debug") || !strcasecmp(name, "trace"))
        return SK_LOG_DEBUG;
    if (!strcasecmp(name, "info"))
        return SK_LOG_INFO;
    if (!strcasecmp(name, "warn") || !strcasecmp(name, "warning"))
        return SK_LOG_WARN;
    if (!strcasecmp(name, "error"))
        return SK_LOG_ERROR;
    return -1;
}

void sk_log_write(sk_log_level level, const char *subsys, const char *fmt, ...)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    char line[1024];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines whole when threads log concurrently. */
    fprintf(stderr, "%s.%03ldZ %s [%s] %s\n", stamp, ts.tv_nsec / 1000000L,
            level_names[level], subsys, line);
}
