/*
 * Reading a whole partition back record by record: what the coordinators
 * do at start to replay their internal topics (__transaction_state,
 * __consumer_offsets) into memory, as Kafka's CoordinatorLoader does. The
 * log is read from the log start offset to the high watermark in slices
 * of up to 1 MiB (larger batches are read whole), batch by batch
 * (sk_partition_scan_batches, control batches included: the group
 * coordinator needs the transaction markers) or record by record
 * (sk_partition_scan_records: control batches skipped, compressed batches
 * inflated, bounded by `cap`).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "log_int.h"
#include "skiff/compress.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

#define SCAN_READ_BYTES (1 << 20)

int sk_partition_scan_batches(sk_partition *p, sk_batch_fn fn, void *arg)
{
    if (sk_partition_ensure_loaded(p) != SK_ERR_NONE)
        return -1;
    int64_t offset = sk_partition_log_start_offset(p), end = sk_partition_high_watermark(p);
    while (offset < end) {
        sk_read_result rr;
        int16_t err = sk_partition_read(p, offset, SCAN_READ_BYTES, end, &rr);
        if (err != SK_ERR_NONE) {
            sk_error("log", "%s: cannot read at offset %" PRId64 ": %s", p->dir, offset, sk_err_name(err));
            return -1;
        }
        if (rr.slice.length <= 0 || rr.next_offset <= offset) {
            sk_log_slice_release(&rr.slice);
            break;
        }
        size_t len = (size_t)rr.slice.length;
        uint8_t *buf = malloc(len);
        if (!buf || sk_log_slice_copy(&rr.slice, buf) < 0) {
            sk_error("log", "%s: cannot read %zu bytes at offset %" PRId64, p->dir, len, offset);
            free(buf);
            sk_log_slice_release(&rr.slice);
            return -1;
        }
        for (size_t at = 0; at < len;) {
            sk_batch b;
            if (sk_batch_header_parse(&b, buf + at, len - at) < 0 || b.size < SK_BATCH_HEADER_SIZE || b.size > len - at)
                break;
            if (sk_batch_last_offset(&b) >= offset)
                fn(arg, &b);
            at += b.size;
        }
        offset = rr.next_offset;
        free(buf);
        sk_log_slice_release(&rr.slice);
    }
    return 0;
}

/* sk_partition_scan_records' walk: each data batch's records. */
typedef struct record_scan {
    sk_partition *p;
    size_t cap;
    sk_record_fn fn;
    void *arg;
} record_scan;

static void scan_batch(void *arg, const sk_batch *b)
{
    record_scan *rs = arg;
    if (b->attributes & SK_BATCH_CONTROL)
        return;
    sk_batch_records br;
    int16_t err = sk_batch_records_open(&br, b, rs->cap);
    if (err != SK_ERR_NONE) {
        sk_warn("log", "%s: skipping the batch at offset %" PRId64 ": %s", rs->p->dir, b->base_offset,
                sk_err_name(err));
        return;
    }
    sk_record rec;
    while (sk_record_next(&br.it, &rec) == 1)
        rs->fn(rs->arg, b, &rec);
    sk_batch_records_close(&br);
}

int sk_partition_scan_records(sk_partition *p, size_t cap, sk_record_fn fn, void *arg)
{
    record_scan rs = {p, cap, fn, arg};
    return sk_partition_scan_batches(p, scan_batch, &rs);
}
