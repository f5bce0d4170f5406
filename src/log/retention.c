/*
 * Retention and DeleteRecords: whole segments leave the log from the oldest
 * end, never the active one, and the log start offset moves past them
 * (Kafka's UnifiedLog.deleteOldSegments: retention.ms by the segment's
 * largest timestamp, then retention.bytes, then segments wholly below the log
 * start offset). Removed segments are renamed *.deleted at once and unlinked
 * on the background worker after file.delete.delay.ms; open slices keep
 * their file descriptors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

void sk_partition_retire_segments(sk_partition *p, size_t from, size_t n, bool snapshots)
{
    size_t nsuffix = SK_SEGMENT_FILES + (snapshots ? 1 : 0);
    char **paths = calloc(n * nsuffix, sizeof *paths);
    sk_segment_file **files = calloc(n, sizeof *files);
    size_t npaths = 0, nfiles = 0;
    char src[4096], dst[4200];

    for (size_t i = from; i < from + n; i++) {
        sk_segment *seg = p->segs[i];
        if (snapshots)
            sk_info("log", "%s: deleting segment %" PRId64 " (%" PRId64 " bytes)", p->dir, seg->base_offset, seg->size);
        for (size_t k = 0; k < nsuffix; k++) {
            sk_segment_path(seg, sk_segment_suffixes[k], src, sizeof src);
            snprintf(dst, sizeof dst, "%s%s", src, SK_DELETED_SUFFIX);
            if (rename(src, dst) < 0) {
                if (errno != ENOENT)
                    sk_error("log", "rename %s: %m", src);
                continue;
            }
            if (paths && (paths[npaths] = strdup(dst)) != NULL)
                npaths++;
        }
        if (files && seg->file) {
            files[nfiles++] = seg->file; /* the delete job drops this reference */
            seg->file = NULL;
        }
        sk_segment_free(seg);
        p->segs[i] = NULL;
    }
    sk_logstore_delete_later(p->store, paths, npaths, files, nfiles, p->cfg.file_delete_delay_ms);
}

void sk_partition_delete_oldest(sk_partition *p, size_t n)
{
    sk_partition_retire_segments(p, 0, n, true);
    memmove(p->segs, p->segs + n, (p->nsegs - n) * sizeof *p->segs);
    p->nsegs -= n;
    if (p->log_start_offset < p->segs[0]->base_offset)
        p->log_start_offset = p->segs[0]->base_offset;
    if (p->recovery_point < p->segs[0]->base_offset)
        p->recovery_point = p->segs[0]->base_offset;
    sk_partition_check(p);
}

int sk_partition_retention(sk_partition *p, int64_t now_ms)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return 0;
    size_t n = 0;
    if (p->cfg.retention_ms >= 0) {
        while (n + 1 < p->nsegs) {
            sk_segment *seg = p->segs[n];
            if (sk_segment_load_indexes(seg, &p->cfg, p->segs[n + 1]->base_offset) < 0)
                break;
            int64_t age;
            if (__builtin_sub_overflow(now_ms, sk_segment_largest_timestamp(seg), &age) || age <= p->cfg.retention_ms)
                break;
            n++;
        }
    }
    if (p->cfg.retention_bytes >= 0) {
        int64_t diff = -p->cfg.retention_bytes;
        for (size_t i = n; i < p->nsegs; i++)
            diff += p->segs[i]->size;
        while (n + 1 < p->nsegs && diff >= p->segs[n]->size) {
            diff -= p->segs[n]->size;
            n++;
        }
    }
    while (n + 1 < p->nsegs && p->segs[n + 1]->base_offset <= p->log_start_offset)
        n++;
    if (n > 0)
        sk_partition_delete_oldest(p, n);
    return (int)n;
}

int16_t sk_partition_delete_records(sk_partition *p, int64_t offset, int64_t *low_watermark)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return SK_ERR_KAFKA_STORAGE_ERROR;
    *low_watermark = p->log_start_offset;
    if (offset == -1)
        offset = p->log_end_offset;
    if (offset < 0 || offset > p->log_end_offset)
        return SK_ERR_OFFSET_OUT_OF_RANGE;
    if (offset > p->log_start_offset) {
        p->log_start_offset = offset;
        size_t n = 0;
        while (n + 1 < p->nsegs && p->segs[n + 1]->base_offset <= offset)
            n++;
        if (n > 0)
            sk_partition_delete_oldest(p, n);
        sk_partition_check(p);
        sk_logstore_checkpoint(p->store);
    }
    *low_watermark = p->log_start_offset;
    return SK_ERR_NONE;
}
