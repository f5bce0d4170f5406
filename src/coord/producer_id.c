/*
 * Producer id allocation (Kafka's ProducerIdManager on one node): ids come
 * from blocks of SK_PRODUCER_ID_BLOCK, and the start of the next block is
 * written to `<log dir>/producer-id-block` before the first id of a block
 * is handed out, so no id is ever given twice, even across crashes (the
 * ids left in a block at a stop are skipped, as Kafka skips them).
 *
 * File format (text): "0\n<next block start>\n" (format version, then the
 * first id not yet reserved).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "skiff/fsutil.h"
#include "skiff/trace.h"
#include "skiff/txn.h"

#define PRODUCER_ID_FILE "producer-id-block"
#define FILE_VERSION 0

struct sk_producer_ids {
    char *path;        /* the block file */
    int64_t next;      /* next id to hand out */
    int64_t block_end; /* first id not reserved (the file's value) */
};

static int reserve_block(sk_producer_ids *ids)
{
    if (ids->block_end > INT64_MAX - SK_PRODUCER_ID_BLOCK) {
        errno = EOVERFLOW;
        return -1;
    }
    char text[64];
    int64_t end = ids->block_end + SK_PRODUCER_ID_BLOCK;
    int n = snprintf(text, sizeof text, "%d\n%" PRId64 "\n", FILE_VERSION, end);
    if (sk_file_write_atomic(ids->path, text, (size_t)n) < 0)
        return -1;
    ids->next = ids->block_end;
    ids->block_end = end;
    sk_debug("txn", "reserved producer ids %" PRId64 "-%" PRId64, ids->next, end - 1);
    return 0;
}

sk_producer_ids *sk_producer_ids_open(const char *dir)
{
    sk_producer_ids *ids = calloc(1, sizeof *ids);
    size_t n = strlen(dir) + sizeof PRODUCER_ID_FILE + 2;
    if (!ids || !(ids->path = malloc(n))) {
        free(ids);
        return NULL;
    }
    snprintf(ids->path, n, "%s/%s", dir, PRODUCER_ID_FILE);
    char *text = sk_file_read_all(ids->path, 4096, NULL);
    if (!text && errno != ENOENT) {
        sk_error("txn", "cannot read %s: %s", ids->path, strerror(errno));
        goto fail;
    }
    if (text) {
        int version;
        int64_t start;
        char extra;
        if (sscanf(text, "%d\n%" SCNd64 "%c", &version, &start, &extra) != 3 || version != FILE_VERSION ||
            extra != '\n' || start < 0) {
            sk_error("txn", "%s is malformed", ids->path);
            free(text);
            goto fail;
        }
        ids->block_end = start;
        free(text);
    }
    /* Nothing of the last block is known to be unused: start a new one. */
    ids->next = ids->block_end;
    return ids;
fail:
    free(ids->path);
    free(ids);
    return NULL;
}

int sk_producer_ids_next(sk_producer_ids *ids, int64_t *out)
{
    if (ids->next >= ids->block_end && reserve_block(ids) < 0) {
        int e = errno;
        sk_error("txn", "cannot reserve producer ids in %s: %s", ids->path, strerror(e));
        errno = e;
        return -1;
    }
    *out = ids->next++;
    return 0;
}

void sk_producer_ids_close(sk_producer_ids *ids)
{
    if (!ids)
        return;
    free(ids->path);
    free(ids);
}
