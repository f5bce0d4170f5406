/*
 * Small file-system helpers shared by every module that persists state.
 */
#ifndef SKIFF_FSUTIL_H
#define SKIFF_FSUTIL_H

#include <stdbool.h>
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

/* Reads the text file `dir`/`name` (at most `max` bytes; its path is
 * returned in *path, which the caller frees, also on failure) and calls
 * `fn(arg, line, lineno)` for each line that is neither empty nor a '#' comment (the line
 * without its '\n', writable, valid during the call; lineno from 1). Stops
 * at the first non-zero return of `fn` and returns it; 0 when every line
 * was taken or the file does not exist (*missing set when not NULL); -1
 * with errno set when it cannot be read (or memory runs out). The buffer is zeroed before it is
 * freed (stores of secrets use this). */
int sk_file_each_line(const char *dir, const char *name, size_t max, char **path,
                      int (*fn)(void *arg, char *line, int lineno), void *arg, bool *missing);

/* Creates `path` and its missing parents with mode 0755 (mkdir -p). Returns 0 or -1. */
int sk_mkdirs(const char *path);

/* Opens the directory `dir` for fsync and *at() calls (close-on-exec).
 * Returns the descriptor (caller closes), or -1 with errno set. */
int sk_dir_open(const char *dir);

/* fsyncs the directory `dir`. Returns 0 or -1. */
int sk_fsync_dir(const char *dir);

#endif
