/*
 * Regular-expression subscriptions of consumer-protocol groups (KIP-848,
 * ConsumerGroupHeartbeat v1 SubscribedTopicRegex). Kafka compiles them with
 * RE2/J and subscribes a member to every topic whose whole name matches
 * (Pattern.matcher(name).matches(); internal topics are not skipped). skiff
 * uses PCRE2 (Debian's libpcre2-8), anchored at both ends, in UTF mode,
 * with a match limit so no pattern backtracks for long.
 *
 * Where PCRE2 and RE2/J differ: PCRE2 accepts more. Backreferences are
 * refused here as RE2/J refuses them; lookaround, atomic groups, possessive
 * quantifiers, recursion and conditionals, which RE2/J also refuses, are
 * accepted and work (a client sending them to Kafka gets
 * INVALID_REGULAR_EXPRESSION). For the patterns clients send (prefixes,
 * alternations, classes, `.*`) both match the same names.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

#include "cgroup_int.h"

#define MATCH_LIMIT 100000

void *sk_cregex_compile(const char *pattern, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &code, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)at);
        return NULL;
    }
    uint32_t backrefs = 0;
    pcre2_pattern_info(re, PCRE2_INFO_BACKREFMAX, &backrefs);
    if (backrefs > 0) {
        snprintf(err, errlen, "backreferences are not supported");
        pcre2_code_free(re);
        return NULL;
    }
    return re;
}

bool sk_cregex_match(void *re, const char *name, size_t len)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (!md || !mc) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        return false;
    }
    pcre2_set_match_limit(mc, MATCH_LIMIT);
    int rc = pcre2_match(re, (PCRE2_SPTR)name, len, 0, 0, md, mc);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    return rc >= 0;
}

void sk_cregex_free(void *re)
{
    pcre2_code_free(re);
}
