/*
 * __transaction_state records in Kafka's formats (transaction-coordinator
 * TransactionLogKey v0 and TransactionLogValue v0/v1, each prefixed with
 * its int16 version as Kafka's MessageUtil writes them), so Kafka's own
 * tools read a skiff data dir and skiff replays what it wrote.
 *
 * Key v0:    version int16 (0), TransactionalId string
 * Value v0:  version int16 (0), ProducerId int64, ProducerEpoch int16,
 *            TransactionTimeoutMs int32, TransactionStatus int8,
 *            TransactionPartitions nullable [] of { Topic string,
 *            PartitionIds []int32 }, TransactionLastUpdateTimestampMs int64,
 *            TransactionStartTimestampMs int64
 * Value v1:  the same fields in flexible form (compact strings and arrays,
 *            a tagged-field section after each struct) with tags 0
 *            PreviousProducerId int64, 1 NextProducerId int64, 2
 *            ClientTransactionVersion int16 (KIP-890). Read, never written.
 */
#include <stdlib.h>
#include <string.h>

#include "txn_int.h"

static void write_string(sk_writer *w, const char *s)
{
    size_t n = strlen(s);
    sk_write_i16(w, (int16_t)n);
    sk_write_raw(w, s, n);
}

int txn_key_encode(sk_writer *w, const char *transactional_id)
{
    if (strlen(transactional_id) > INT16_MAX)
        return -1;
    sk_write_i16(w, 0);
    write_string(w, transactional_id);
    return w->err ? -1 : 0;
}

/* A heap copy of a string of `len` bytes (len < 0: NULL and a failure). */
static char *read_bytes_dup(sk_reader *r, int64_t len)
{
    if (len < 0) {
        sk_reader_fail(r);
        return NULL;
    }
    const uint8_t *p = sk_read_raw(r, (size_t)len);
    char *s = p ? malloc((size_t)len + 1) : NULL;
    if (!s) {
        sk_reader_fail(r);
        return NULL;
    }
    memcpy(s, p, (size_t)len);
    s[len] = '\0';
    return s;
}

static char *read_string(sk_reader *r, bool flexible)
{
    int64_t len = flexible ? (int64_t)sk_read_uvarint(r) - 1 : sk_read_i16(r);
    return read_bytes_dup(r, len);
}

/* An array length: int32 (-1 null) or compact (0 null). -1 for null. */
static int32_t read_count(sk_reader *r, bool flexible)
{
    int64_t n = flexible ? (int64_t)sk_read_uvarint(r) - 1 : sk_read_i32(r);
    if (n < -1 || (n > 0 && (size_t)n > sk_reader_left(r))) {
        sk_reader_fail(r);
        return -1;
    }
    return (int32_t)n;
}

int txn_key_decode(const uint8_t *p, size_t len, char **id)
{
    sk_reader r;
    sk_reader_init(&r, p, len);
    *id = NULL;
    if (sk_read_i16(&r) != 0)
        return -1;
    char *s = read_string(&r, false);
    if (r.err || sk_reader_left(&r) != 0) {
        free(s);
        return -1;
    }
    *id = s;
    return 0;
}

int txn_value_encode(sk_writer *w, const txn_value *v)
{
    sk_write_i16(w, 0);
    sk_write_i64(w, v->producer_id);
    sk_write_i16(w, v->producer_epoch);
    sk_write_i32(w, v->timeout_ms);
    sk_write_i8(w, v->state);
    if (v->state == SK_TXN_EMPTY) {
        sk_write_i32(w, -1);
    } else {
        /* One entry per topic, partitions grouped as they come. */
        int32_t ntopics = 0;
        for (int32_t i = 0; i < v->nparts; i++) {
            bool seen = false;
            for (int32_t k = 0; k < i && !seen; k++)
                seen = !strcmp(v->parts[k].topic, v->parts[i].topic);
            ntopics += !seen;
        }
        sk_write_i32(w, ntopics);
        for (int32_t i = 0; i < v->nparts; i++) {
            bool seen = false;
            for (int32_t k = 0; k < i && !seen; k++)
                seen = !strcmp(v->parts[k].topic, v->parts[i].topic);
            if (seen)
                continue;
            int32_t n = 0;
            for (int32_t k = i; k < v->nparts; k++)
                n += !strcmp(v->parts[k].topic, v->parts[i].topic);
            write_string(w, v->parts[i].topic);
            sk_write_i32(w, n);
            for (int32_t k = i; k < v->nparts; k++)
                if (!strcmp(v->parts[k].topic, v->parts[i].topic))
                    sk_write_i32(w, v->parts[k].partition);
        }
    }
    sk_write_i64(w, v->update_ms);
    sk_write_i64(w, v->start_ms);
    return w->err ? -1 : 0;
}

/* Skips a tagged-field section, keeping the known tags of the value. */
static void read_tags(sk_reader *r, txn_value *v)
{
    uint32_t n = sk_read_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        uint32_t tag = sk_read_uvarint(r);
        uint32_t size = sk_read_uvarint(r);
        const uint8_t *p = sk_read_raw(r, size);
        if (!p || !v)
            continue;
        if ((tag == 0 || tag == 1) && size == 8) {
            int64_t x = (int64_t)sk_be64(p);
            if (tag == 0)
                v->previous_producer_id = x;
            else
                v->next_producer_id = x;
        }
    }
}

static int add_part(txn_value *v, int32_t *cap, const char *topic, int32_t partition)
{
    if (v->nparts == *cap) {
        int32_t ncap = *cap ? *cap * 2 : 4;
        txn_part *a = realloc(v->parts, (size_t)ncap * sizeof *a);
        if (!a)
            return -1;
        v->parts = a;
        *cap = ncap;
    }
    char *t = strdup(topic);
    if (!t)
        return -1;
    v->parts[v->nparts++] = (txn_part){t, partition, false};
    return 0;
}

int txn_value_decode(const uint8_t *p, size_t len, txn_value *out)
{
    sk_reader r;
    sk_reader_init(&r, p, len);
    memset(out, 0, sizeof *out);
    out->previous_producer_id = out->next_producer_id = -1;
    int16_t version = sk_read_i16(&r);
    if (r.err || version < 0 || version > 1)
        return -1;
    bool flex = version >= 1;
    out->producer_id = sk_read_i64(&r);
    out->producer_epoch = sk_read_i16(&r);
    out->timeout_ms = sk_read_i32(&r);
    out->state = sk_read_i8(&r);
    int32_t ntopics = read_count(&r, flex);
    int32_t cap = 0;
    for (int32_t i = 0; i < ntopics && !r.err; i++) {
        char *topic = read_string(&r, flex);
        int32_t np = read_count(&r, flex);
        for (int32_t k = 0; k < np && !r.err; k++) {
            int32_t part = sk_read_i32(&r);
            if (!r.err && add_part(out, &cap, topic, part) < 0)
                sk_reader_fail(&r);
        }
        if (flex)
            read_tags(&r, NULL);
        free(topic);
    }
    out->update_ms = sk_read_i64(&r);
    out->start_ms = sk_read_i64(&r);
    if (flex)
        read_tags(&r, out);
    if (r.err || out->state < 0 || out->state >= SK_TXN_NSTATES) {
        txn_value_free(out);
        return -1;
    }
    return 0;
}

void txn_value_free(txn_value *v)
{
    for (int32_t i = 0; i < v->nparts; i++)
        free(v->parts[i].topic);
    free(v->parts);
    v->parts = NULL;
    v->nparts = 0;
}
