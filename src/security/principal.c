/*
 * ssl.principal.mapping.rules (Kafka's SslPrincipalMapper, KIP-371): a
 * comma-separated list of DEFAULT and RULE:pattern/replacement/[LU]. The
 * certificate's subject, in RFC 2253 form (CN=alice,OU=Eng,O=Example), is
 * matched against each rule in turn; the first whose pattern matches the
 * whole name gives the principal: the replacement with $1..$9 filled from
 * the pattern's groups, lower- (L) or upper-cased (U) if asked. DEFAULT
 * gives the name as it is. No match refuses the connection, as in Kafka.
 *
 * Patterns are POSIX extended expressions; Java's reluctant quantifiers
 * (*?, +?, ??) are read as greedy, which gives the same result for the
 * usual anchored rules such as ^CN=(.*?),OU=(.*?)$ (docs/security.md).
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/security.h"

void sk_principal_rules_free(sk_principal_rule *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (rules[i].regex) {
            regfree(rules[i].regex);
            free(rules[i].regex);
        }
        free(rules[i].replacement);
    }
    free(rules);
}

/* Reads a '/'-terminated part of a RULE (a backslash escapes '/'), into a
 * new string; *p moves past the '/'. NULL when unterminated. */
static char *rule_part(const char **p, bool drop_lazy)
{
    const char *s = *p;
    char *out = malloc(strlen(s) + 1);
    size_t n = 0;
    if (!out)
        return NULL;
    for (; *s && *s != '/'; s++) {
        if (*s == '\\' && s[1] == '/') {
            out[n++] = '/';
            s++;
            continue;
        }
        if (*s == '\\' && s[1]) {
            out[n++] = *s++;
            out[n++] = *s;
            continue;
        }
        if (drop_lazy && *s == '?' && n > 0 && strchr("*+?}", out[n - 1]))
            continue;
        out[n++] = *s;
    }
    if (*s != '/') {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    *p = s + 1;
    return out;
}

/* True when a quantifier follows another (Java's possessive forms, or
 * a{2}*): POSIX has no such forms, and glibc compiles long runs of them
 * into exponentially large automata. */
static bool stacked_quantifiers(const char *p)
{
    for (size_t i = 1; p[0] && p[i]; i++) {
        bool escaped = i >= 2 && p[i - 2] == '\\';
        if (!escaped && strchr("*+?}", p[i - 1]) && strchr("*+?{", p[i]))
            return true;
    }
    return false;
}

const char *sk_principal_rules_parse(const char *text, sk_principal_rule **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    const char *p = text;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        sk_principal_rule r = {0};
        if (!strncmp(p, "DEFAULT", 7)) {
            r.is_default = true;
            p += 7;
        } else if (!strncmp(p, "RULE:", 5)) {
            p += 5;
            char *pattern = rule_part(&p, true);
            r.replacement = pattern ? rule_part(&p, false) : NULL;
            if (pattern && stacked_quantifiers(pattern)) {
                free(pattern);
                free(r.replacement);
                sk_principal_rules_free(*out, *n);
                *out = NULL;
                *n = 0;
                return "a RULE's pattern repeats a quantifier (such as .*+); write one quantifier";
            }
            if (!pattern || !r.replacement) {
                free(pattern);
                free(r.replacement);
                sk_principal_rules_free(*out, *n);
                *out = NULL;
                *n = 0;
                return "a RULE needs the form RULE:pattern/replacement/[LU]";
            }
            if (*p == 'L' || *p == 'U')
                r.case_fold = *p++;
            r.regex = malloc(sizeof(regex_t));
            int rc = r.regex ? regcomp(r.regex, pattern, REG_EXTENDED) : -1;
            free(pattern);
            if (rc != 0) {
                free(r.regex);
                free(r.replacement);
                sk_principal_rules_free(*out, *n);
                *out = NULL;
                *n = 0;
                return "a RULE's pattern is not a valid regular expression";
            }
        } else {
            sk_principal_rules_free(*out, *n);
            *out = NULL;
            *n = 0;
            return "each rule must be DEFAULT or RULE:pattern/replacement/[LU]";
        }
        sk_principal_rule *grown = realloc(*out, (*n + 1) * sizeof *grown);
        if (!grown) {
            if (r.regex)
                regfree(r.regex);
            free(r.regex);
            free(r.replacement);
            return "out of memory";
        }
        *out = grown;
        (*out)[(*n)++] = r;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == ',') {
            p++;
        } else if (*p) {
            sk_principal_rules_free(*out, *n);
            *out = NULL;
            *n = 0;
            return "rules must be separated by commas";
        }
    }
    return NULL;
}

int sk_principal_map(const sk_principal_rule *rules, size_t n, const char *dn, char *out, size_t len)
{
    if (n == 0) {
        snprintf(out, len, "%s", dn);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        const sk_principal_rule *r = &rules[i];
        if (r->is_default) {
            snprintf(out, len, "%s", dn);
            return 0;
        }
        regmatch_t m[10];
        if (regexec(r->regex, dn, 10, m, 0) != 0 || m[0].rm_so != 0 || (size_t)m[0].rm_eo != strlen(dn))
            continue;
        size_t o = 0;
        for (const char *q = r->replacement; *q && o + 1 < len; q++) {
            if (*q == '\\' && q[1]) {
                out[o++] = *++q;
            } else if (*q == '$' && q[1] >= '0' && q[1] <= '9') {
                int g = *++q - '0';
                for (regoff_t k = m[g].rm_so; m[g].rm_so >= 0 && k < m[g].rm_eo && o + 1 < len; k++)
                    out[o++] = dn[k];
            } else {
                out[o++] = *q;
            }
        }
        out[o] = '\0';
        for (size_t k = 0; k < o; k++)
            out[k] = r->case_fold == 'L'   ? (char)tolower((unsigned char)out[k])
                     : r->case_fold == 'U' ? (char)toupper((unsigned char)out[k])
                                           : out[k];
        return 0;
    }
    return -1;
}
