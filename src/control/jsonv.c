/*
 * Validation of JSON request bodies (skiff/jsonv.h).
 */
#include "skiff/jsonv.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Largest integer a JSON number (an IEEE double) carries exactly: 2^53. */
#define JSON_EXACT_MAX 9007199254740992.0

int sk_jsonv_fields(const cJSON *obj, const char *const *allowed, char *detail, size_t len)
{
    if (!cJSON_IsObject(obj)) {
        snprintf(detail, len, "the body must be a JSON object");
        return -1;
    }
    for (const cJSON *it = obj->child; it; it = it->next) {
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = !strcmp(*a, it->string);
        if (!known) {
            snprintf(detail, len, "unknown field \"%s\"", it->string);
            return -1;
        }
        for (const cJSON *o = obj->child; o != it; o = o->next)
            if (!strcmp(o->string, it->string)) {
                snprintf(detail, len, "field \"%s\" given twice", it->string);
                return -1;
            }
    }
    return 0;
}

int sk_jsonv_int(const cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out, char *detail, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return 1;
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > JSON_EXACT_MAX || d < (double)min || d > (double)max) {
        snprintf(detail, len, "field \"%s\" must be an integer from %lld to %lld", name, (long long)min,
                 (long long)max);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

int sk_jsonv_str(const cJSON *obj, const char *name, const char **out, char *detail, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return 1;
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        snprintf(detail, len, "field \"%s\" must be a non-empty string", name);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int sk_jsonv_bool(const cJSON *obj, const char *name, bool *out, char *detail, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return 1;
    if (!cJSON_IsBool(v)) {
        snprintf(detail, len, "field \"%s\" must be true or false", name);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

int sk_jsonv_num(const cJSON *obj, const char *name, double min, double max, double *out, char *detail, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v)
        return 1;
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= min && v->valuedouble <= max)) {
        snprintf(detail, len, "field \"%s\" must be a number from %g to %g", name, min, max);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}
