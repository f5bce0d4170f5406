/*
 * Small file-system helpers shared by every module that persists state.
 */
#ifndef SKIFF_FSUTIL_H
#define SKIFF_FSUTIL_H

#include <stddef.h>

/* Replaces `path` with `len` bytes of `data` atomically: writes `path`.tmp,
 * fsyncs it, renames it over `path`, then fsyncs the directory, so a crash
 * leaves either the old or the new content. Returns 0, or -1 with errno set. */
int sk_file_write_atomic(const char *path, const void *data, size_t len);
/* The same for the file `name` in the directory open as `dirfd`: the write
 * follows the directory even if it is renamed meanwhile. */
int sk_file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len);

/* Reads a whole file into a NUL-terminated heap buffer (caller frees) and
 * stores its length in *len (may be NULL). Returns NULL with errno set on
 * failure (ENOENT when absent). `max` bounds the size read (EFBIG beyond). */
char *sk_file_read_all(const char *path, size_t max, size_t *len);

/* Creates `path` and its missing parents with mode 0755 (mkdir -p). Returns 0 or -1. */
int sk_mkdirs(const char *path);

/* Opens the directory `dir` for fsync and *at() calls (close-on-exec).
 * Returns the descriptor (caller closes), or -1 with errno set. */
int sk_dir_open(const char *dir);

/* fsyncs the directory `dir`. Returns 0 or -1. */
int sk_fsync_dir(const char *dir);

#endif
