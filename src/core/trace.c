/* Level-gated logging to stderr with UTC timestamps (see skiff/trace.h). */
#include "skiff/trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "skiff/clock.h"

sk_trace_level sk_trace_threshold = SK_TRACE_INFO;

static const char *const level_names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

int sk_trace_level_parse(const char *name)
{
    if (!strcasecmp(name, "debug") || !strcasecmp(name, "trace"))
        return SK_TRACE_DEBUG;
    if (!strcasecmp(name, "info"))
        return SK_TRACE_INFO;
    if (!strcasecmp(name, "warn") || !strcasecmp(name, "warning"))
        return SK_TRACE_WARN;
    if (!strcasecmp(name, "error"))
        return SK_TRACE_ERROR;
    return -1;
}

void sk_trace_write(sk_trace_level level, const char *subsys, const char *fmt, ...)
{
    struct tm tm;
    char stamp[32];
    char line[1024];

    int64_t now_ms = sk_clock_wall_ms();
    time_t now_s = (time_t)(now_ms / 1000);
    gmtime_r(&now_s, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines whole when threads log concurrently. */
    fprintf(stderr, "%s.%03dZ %s [%s] %s\n", stamp, (int)(now_ms % 1000), level_names[level], subsys, line);
}
