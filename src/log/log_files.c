/*
 * The log directory's file names and whole-buffer file I/O, shared by the
 * segment, index, snapshot and cleaner files: names of the form
 * "<20-digit offset><suffix>" (Kafka's LogFileUtils.filenamePrefixFromOffset)
 * and pread/pwrite loops that finish short transfers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_int.h"

/* ---- File names ---- */

const char *const sk_segment_suffixes[SK_SEGMENT_FILES + 1] = {".log", ".index", ".timeindex", ".txnindex",
                                                               SK_SNAPSHOT_SUFFIX};

bool sk_has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int64_t sk_offset_file_name(const char *name, const char *suffix)
{
    if (strlen(name) != 20 + strlen(suffix) || strcmp(name + 20, suffix) != 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

int sk_offset_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void sk_offset_file_path(char *out, size_t n, const char *dir, int64_t offset, const char *suffix, const char *tail)
{
    snprintf(out, n, "%s/%020" PRId64 "%s%s", dir, offset, suffix, tail);
}

char *sk_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void sk_segment_path(const sk_segment *seg, const char *suffix, char *out, size_t n)
{
    snprintf(out, n, "%s%s", seg->prefix, suffix);
}

/* ---- I/O helpers ---- */

int sk_pwrite_full(int fd, const void *buf, size_t len, int64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

int sk_pread_full(int fd, void *buf, size_t len, int64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}
