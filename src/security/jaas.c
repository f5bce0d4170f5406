/*
 * sasl.jaas.config values (Kafka's JaasConfig): one login module entry,
 *   <module class> <flag> [<key>=<value>]... ;
 * with the flag one of required, requisite, sufficient, optional, keys
 * words, values words or double-quoted strings (backslash escapes the next
 * character), Java-style line and block comments skipped as StreamTokenizer
 * does.
 * Only one entry is accepted, as Kafka requires for sasl.jaas.config.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/security.h"

typedef struct lexer {
    const char *p; /* next unread character of the JAAS text (NUL-terminated, borrowed) */
} lexer;

static bool word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '$' || c == '/' || c == ':';
}

static void skip_space(lexer *lx)
{
    for (;;) {
        while (isspace((unsigned char)*lx->p))
            lx->p++;
        if (lx->p[0] == '/' && lx->p[1] == '/') {
            while (*lx->p && *lx->p != '\n')
                lx->p++;
        } else if (lx->p[0] == '/' && lx->p[1] == '*') {
            const char *end = strstr(lx->p + 2, "*/");
            lx->p = end ? end + 2 : lx->p + strlen(lx->p);
        } else {
            return;
        }
    }
}

/* A word or a quoted string, as a new string; NULL when there is none. */
static char *token(lexer *lx, bool allow_quoted)
{
    skip_space(lx);
    const char *start = lx->p;
    if (allow_quoted && *lx->p == '"') {
        size_t n = 0;
        char *out = malloc(strlen(lx->p) + 1);
        if (!out)
            return NULL;
        for (lx->p++; *lx->p && *lx->p != '"'; lx->p++) {
            if (*lx->p == '\\' && lx->p[1])
                lx->p++;
            out[n++] = *lx->p;
        }
        if (*lx->p != '"') {
            free(out);
            lx->p = start;
            return NULL;
        }
        lx->p++;
        out[n] = '\0';
        return out;
    }
    while (word_char(*lx->p) && !(lx->p[0] == '/' && (lx->p[1] == '/' || lx->p[1] == '*')))
        lx->p++;
    if (lx->p == start)
        return NULL;
    size_t n = (size_t)(lx->p - start);
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, start, n);
        out[n] = '\0';
    }
    return out;
}

const char *sk_jaas_parse(const char *text, sk_jaas *out)
{
    memset(out, 0, sizeof *out);
    lexer lx = {text};
    out->module = token(&lx, false);
    if (!out->module)
        return "expected a login module class name";
    char *flag = token(&lx, false);
    bool flag_ok = flag && (!strcasecmp(flag, "required") || !strcasecmp(flag, "requisite") ||
                            !strcasecmp(flag, "sufficient") || !strcasecmp(flag, "optional"));
    free(flag);
    if (!flag_ok)
        return "expected a control flag (required, requisite, sufficient or optional) after the module";
    for (;;) {
        skip_space(&lx);
        if (*lx.p == ';')
            break;
        if (!*lx.p)
            return "missing ';' at the end of the entry";
        char *key = token(&lx, false);
        if (!key)
            return "expected key=value";
        skip_space(&lx);
        if (*lx.p != '=') {
            free(key);
            return "expected '=' after an option name";
        }
        lx.p++;
        char *value = token(&lx, true);
        if (!value) {
            free(key);
            return "expected a value (a word or a \"quoted string\") after '='";
        }
        sk_jaas_option *grown = realloc(out->options, (out->noptions + 1) * sizeof *grown);
        if (!grown) {
            free(key);
            free(value);
            return "out of memory";
        }
        out->options = grown;
        out->options[out->noptions++] = (sk_jaas_option){key, value};
    }
    lx.p++;
    skip_space(&lx);
    if (*lx.p)
        return "only one login module entry is allowed (text after ';')";
    return NULL;
}

void sk_jaas_free(sk_jaas *j)
{
    for (size_t i = 0; i < j->noptions; i++) {
        free(j->options[i].key);
        free(j->options[i].value);
    }
    free(j->options);
    free(j->module);
    memset(j, 0, sizeof *j);
}
