/*
 * Finishing a cleaner swap a crash interrupted (Kafka's LogLoader, before
 * the segments are listed): the swap itself and the files it leaves at each
 * step are described in cleaner.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log_int.h"
#include "skiff/trace.h"

/* Last offset of the batches of `path` (base - 1 when empty). */
static int64_t swap_last_offset(const char *path, int64_t base)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return base - 1;
    sk_log_scan sc = {.fd = fd, .win_pos = -1};
    int64_t last = base - 1;
    sk_batch b;
    const uint8_t *h;
    for (int64_t pos = 0; (h = sk_log_scan_window(&sc, pos, SK_BATCH_HEADER_SIZE)) != NULL;) {
        sk_batch_header_parse(&b, h, SK_BATCH_HEADER_SIZE);
        if (!sk_log_batch_header_ok(&b, INT64_MAX) || !sk_log_scan_window(&sc, pos, b.size))
            break;
        last = sk_batch_last_offset(&b);
        pos += (int64_t)b.size;
    }
    free(sc.buf);
    close(fd);
    return last;
}

int sk_cleaner_recover_swaps(sk_partition *p)
{
    DIR *d = opendir(p->dir);
    if (!d)
        return 0; /* list_segments reports it */
    int64_t *swaps = NULL, *bases = NULL;
    size_t nswaps = 0, nbases = 0;
    char **names = NULL;
    size_t nnames = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL && rc == 0) {
        char name[300];
        snprintf(name, sizeof name, "%s", de->d_name);
        int64_t base = sk_offset_file_name(name, ".log");
        if (base >= 0) {
            int64_t *a = realloc(bases, (nbases + 1) * sizeof *a);
            rc = a ? 0 : -1;
            if (a)
                (bases = a)[nbases++] = base;
            continue;
        }
        if (!sk_has_suffix(name, SK_SWAP_SUFFIX))
            continue;
        char **a = realloc(names, (nnames + 1) * sizeof *a);
        rc = a && (a[nnames] = strdup(name)) ? 0 : -1;
        if (a)
            names = a;
        if (rc == 0)
            nnames++;
        name[strlen(name) - strlen(SK_SWAP_SUFFIX)] = '\0';
        base = sk_offset_file_name(name, ".log");
        if (base >= 0 && rc == 0) {
            int64_t *s = realloc(swaps, (nswaps + 1) * sizeof *s);
            rc = s ? 0 : -1;
            if (s)
                (swaps = s)[nswaps++] = base;
        }
    }
    closedir(d);
    char path[4200], to[4200];
    for (size_t i = 0; i < nswaps && rc == 0; i++) {
        sk_offset_file_path(path, sizeof path, p->dir, swaps[i], ".log", SK_SWAP_SUFFIX);
        int64_t last = swap_last_offset(path, swaps[i]);
        sk_warn("cleaner", "%s: completing the swap of cleaned segment %" PRId64 " (offsets to %" PRId64 ")", p->dir,
                swaps[i], last);
        for (size_t k = 0; k < nbases; k++) {
            if (bases[k] < swaps[i] || (bases[k] > last && bases[k] != swaps[i]))
                continue;
            for (size_t x = 0; x < SK_SEGMENT_FILES; x++) {
                sk_offset_file_path(to, sizeof to, p->dir, bases[k], sk_segment_suffixes[x], "");
                unlink(to);
            }
        }
        /* Rebuilt from the log at load. */
        for (size_t x = 1; x < 3; x++) {
            sk_offset_file_path(to, sizeof to, p->dir, swaps[i], sk_segment_suffixes[x], SK_SWAP_SUFFIX);
            unlink(to);
        }
    }
    for (size_t i = 0; i < nnames && rc == 0; i++) {
        snprintf(path, sizeof path, "%s/%s", p->dir, names[i]);
        snprintf(to, sizeof to, "%s", path);
        to[strlen(to) - strlen(SK_SWAP_SUFFIX)] = '\0';
        if (rename(path, to) < 0 && errno != ENOENT) {
            sk_error("cleaner", "rename %s: %m", path);
            rc = -1;
        }
    }
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    free(swaps);
    free(bases);
    return rc;
}
