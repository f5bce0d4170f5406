/*
 * Validation of JSON request bodies (cJSON) for the HTTP control plane:
 * unknown fields are refused with a message naming them, and typed getters
 * report the field that is wrong. Every function writes its message into
 * `detail` (NUL-terminated, truncated to `len`) and returns -1 on failure.
 */
#ifndef SKIFF_JSONV_H
#define SKIFF_JSONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

/* 0 when `obj` is an object whose keys are all in `allowed` (NULL-terminated)
 * and appear once; else -1 naming the first unknown or repeated field. */
int sk_jsonv_fields(const struct cJSON *obj, const char *const *allowed, char *detail, size_t len);
/* Integer field `name` in [min, max]: 0 and *out set; 1 when absent (*out
 * untouched); -1 when not an integer in range. */
int sk_jsonv_int(const struct cJSON *obj, const char *name, int64_t min, int64_t max, int64_t *out, char *detail,
                 size_t len);
/* String field: 0 with *out borrowed from `obj`; 1 when absent; -1 when not a
 * non-empty string. */
int sk_jsonv_str(const struct cJSON *obj, const char *name, const char **out, char *detail, size_t len);
/* Boolean field: 0 / 1 (absent) / -1. */
int sk_jsonv_bool(const struct cJSON *obj, const char *name, bool *out, char *detail, size_t len);
/* Number field in [min, max]: 0 / 1 (absent) / -1. */
int sk_jsonv_num(const struct cJSON *obj, const char *name, double min, double max, double *out, char *detail,
                 size_t len);

#endif
