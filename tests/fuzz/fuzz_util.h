/*
 * Helpers shared by the libFuzzer targets that read untrusted disk bytes
 * (fuzz_record_batch.c, fuzz_log_files.c, fuzz_coord_records.c): a check
 * that aborts naming itself, the invariants of a producer state
 * (src/log/log_int.h) that every decoder feeding it must keep, and a
 * scratch directory on tmpfs when there is one (the log store's clean close
 * calls syncfs, cheap there).
 */
#ifndef SKIFF_FUZZ_UTIL_H
#define SKIFF_FUZZ_UTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/log/log_int.h"

/* Reports the failed check and aborts (a libFuzzer crash). */
static inline void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
    abort();
}

/* Aborts, naming the check, when `ok` is false. */
#define fuzz_check(ok) ((ok) ? (void)0 : fuzz_fail(#ok, __FILE__, __LINE__))

/* The open-transaction list of `ps` is a well-linked chain, ordered by
 * first offset, of distinct entries of the table with an open transaction,
 * and the table holds `table.count` entries. */
static inline void fuzz_check_producers(const sk_producer_state *ps)
{
    size_t entries = 0, bucket;
    for (const sk_hnode *n = sk_htab_next(&ps->table, NULL, &bucket); n; n = sk_htab_next(&ps->table, n, &bucket)) {
        const sk_producer_entry *e = SK_CONTAINER_OF(n, sk_producer_entry, node);
        fuzz_check(entries++ < ps->table.count);
        fuzz_check(sk_producer_state_find(ps, e->producer_id) == e);
        fuzz_check(e->nbatches >= 0 && e->nbatches <= SK_PRODUCER_BATCHES);
    }
    fuzz_check(entries == ps->table.count);
    size_t open = 0;
    const sk_producer_entry *prev = NULL;
    for (const sk_producer_entry *e = ps->txn_head; e; prev = e, e = e->txn_next) {
        fuzz_check(open++ < ps->table.count);
        fuzz_check(e->txn_prev == prev && e->txn_first_offset >= 0);
        fuzz_check(sk_producer_state_find(ps, e->producer_id) == e);
        fuzz_check(!prev || prev->txn_first_offset <= e->txn_first_offset);
    }
    fuzz_check(ps->txn_tail == prev);
}

static inline int fuzz_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes the tree at `path` (missing is fine). */
static inline void fuzz_rm_tree(const char *path)
{
    nftw(path, fuzz_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory for this process (heap string), on /dev/shm when
 * writable, else in $TMPDIR or /tmp; removed at exit by the caller. */
static inline char *fuzz_scratch_dir(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    const char *roots[] = {"/dev/shm", tmp && *tmp ? tmp : "/tmp"};
    for (size_t i = 0; i < sizeof roots / sizeof *roots; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s-XXXXXX", roots[i], name);
        if (access(roots[i], W_OK) == 0 && mkdtemp(path))
            return strdup(path);
    }
    abort();
}

#endif
