/*
 * The log's small file formats: the offset and time indexes (append, lookup,
 * preallocation, trim, sanity checks), the offset checkpoint text (parse,
 * malformed inputs) and partition.metadata (render and parse).
 */
#include "test_log_util.h"

#include "../../src/log/log_int.h"
#include "skiff/uuid.h"
#include "unit_run.h"

START_TEST(test_offset_index)
{
    char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000100.index", dir);
    sk_index ix;
    sk_index_init(&ix, SK_OFFSET_INDEX_ENTRY);
    ck_assert_int_eq(sk_index_open(&ix, path, 43, false), 0); /* rounded down: 5 entries */
    ck_assert_int_eq(test_file_size(path), 40);
    ck_assert_uint_eq(ix.max_entries, 5);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 150), 0);
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 110, 4200), 0);
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 120, 8400), 0);
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 120, 9000), -1); /* offset not increasing */
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 130, 8400), -1); /* position not increasing */
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 99, 9000), -1);  /* below the base */
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 130, 12600), 0);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 100), 0);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 109), 0);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 110), 4200);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 125), 8400);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 1000), 12600);
    ck_assert_int_eq(sk_offset_index_last_offset(&ix, 100), 130);
    ck_assert_int_eq(sk_offset_index_last_position(&ix), 12600);
    ck_assert(sk_offset_index_sane(&ix, 100, 131, 13000));
    ck_assert(!sk_offset_index_sane(&ix, 100, 130, 13000)); /* entry at the end offset */
    ck_assert(!sk_offset_index_sane(&ix, 100, -1, 12600));  /* position past the log */
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 140, 16800), 0);
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 150, 21000), 0);
    ck_assert(sk_index_full(&ix));
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 160, 25200), -1);
    ck_assert_int_eq(sk_index_trim(&ix), 0);
    ck_assert_int_eq(test_file_size(path), 40);
    ck_assert_int_eq(sk_offset_index_append(&ix, 100, 160, 25200), -1); /* read-only now */
    sk_index_close(&ix);

    /* Exact bytes: relative offset then position, big-endian. */
    uint8_t bytes[24];
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(read(fd, bytes, sizeof bytes), 24);
    close(fd);
    static const uint8_t want[24] = {0, 0, 0,    10,   0, 0, 0x10, 0x68, 0, 0, 0,    20,
                                     0, 0, 0x20, 0xd0, 0, 0, 0,    30,   0, 0, 0x31, 0x38};
    ck_assert_mem_eq(bytes, want, 24);

    /* Read-only reopen; a writable reopen preallocates again. */
    ck_assert_int_eq(sk_index_open(&ix, path, 0, false), 0);
    ck_assert_uint_eq(ix.entries, 5);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 121), 8400);
    ck_assert_int_eq(sk_offset_index_lookup(&ix, 100, 155), 21000);
    sk_index_close(&ix);
    ck_assert_int_eq(sk_index_open(&ix, path, 80, false), 0);
    ck_assert_uint_eq(ix.entries, 5);
    ck_assert_uint_eq(ix.max_entries, 10);
    ck_assert_int_eq(test_file_size(path), 80);
    /* Preallocated zeros are not entries: a trusted load of that file fails the check. */
    sk_index_close(&ix);
    ck_assert_int_eq(sk_index_open(&ix, path, 0, false), 0);
    ck_assert_uint_eq(ix.entries, 10);
    ck_assert(!sk_offset_index_sane(&ix, 100, -1, 1 << 30));
    sk_index_close(&ix);
    /* A fresh open empties the same file. */
    ck_assert_int_eq(sk_index_open(&ix, path, 80, true), 0);
    ck_assert_uint_eq(ix.entries, 0);
    ck_assert_uint_eq(ix.max_entries, 10);
    sk_index_close(&ix);
    snprintf(path, sizeof path, "%s/missing.index", dir);
    ck_assert_int_eq(sk_index_open(&ix, path, 0, false), -1);
    test_rmtree(dir);
}
END_TEST

START_TEST(test_time_index)
{
    char *dir = test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/00000000000000000000.timeindex", dir);
    sk_index ix;
    int64_t ts, off;
    sk_index_init(&ix, SK_TIME_INDEX_ENTRY);
    ck_assert_int_eq(sk_index_open(&ix, path, 40, false), 0); /* 3 entries */
    sk_time_index_last(&ix, 0, &ts, &off);
    ck_assert_int_eq(ts, -1);
    ck_assert_int_eq(off, 0);
    ck_assert_int_eq(sk_time_index_lookup(&ix, 0, T0), 0);
    sk_time_index_maybe_append(&ix, 0, T0 + 10, 5);
    sk_time_index_maybe_append(&ix, 0, T0 + 10, 9); /* not larger: skipped */
    sk_time_index_maybe_append(&ix, 0, T0 + 5, 9);  /* smaller: skipped */
    sk_time_index_maybe_append(&ix, 0, T0 + 20, 4); /* offset going back: skipped */
    sk_time_index_maybe_append(&ix, 0, T0 + 20, 12);
    ck_assert_uint_eq(ix.entries, 2);
    ck_assert_int_eq(sk_time_index_lookup(&ix, 0, T0 + 9), 0);
    ck_assert_int_eq(sk_time_index_lookup(&ix, 0, T0 + 10), 5);
    ck_assert_int_eq(sk_time_index_lookup(&ix, 0, T0 + 19), 5);
    ck_assert_int_eq(sk_time_index_lookup(&ix, 0, T0 + 1000), 12);
    sk_time_index_last(&ix, 0, &ts, &off);
    ck_assert_int_eq(ts, T0 + 20);
    ck_assert_int_eq(off, 12);
    ck_assert(sk_time_index_sane(&ix, 0, 13));
    ck_assert(!sk_time_index_sane(&ix, 0, 12));
    sk_time_index_maybe_append(&ix, 0, T0 + 30, 13);
    ck_assert(sk_index_full(&ix));
    sk_time_index_maybe_append(&ix, 0, T0 + 40, 14);
    ck_assert_uint_eq(ix.entries, 3);
    ck_assert_int_eq(sk_index_trim(&ix), 0);
    sk_index_close(&ix);
    ck_assert_int_eq(test_file_size(path), 36);
    uint8_t e[12];
    int fd = open(path, O_RDONLY);
    ck_assert_int_eq(pread(fd, e, 12, 12), 12);
    close(fd);
    ck_assert_int_eq((int64_t)sk_be64(e), T0 + 20);
    ck_assert_uint_eq(sk_be32(e + 8), 12);
    test_rmtree(dir);
}
END_TEST

START_TEST(test_checkpoint_parse)
{
    sk_checkpoint_entry *e;
    const char *ok = "0\n3\nt 0 10\nmy.topic-x 12 0\nt 1 9223372036854775807\n";
    int n = sk_checkpoint_parse(ok, strlen(ok), &e);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(e[0].topic, "t");
    ck_assert_int_eq(e[0].partition, 0);
    ck_assert_int_eq(e[0].offset, 10);
    ck_assert_str_eq(e[1].topic, "my.topic-x");
    ck_assert_int_eq(e[1].partition, 12);
    ck_assert_int_eq(e[2].offset, INT64_MAX);
    sk_checkpoint_entries_free(e, n);
    ck_assert_int_eq(sk_checkpoint_parse("0\n0\n", 4, &e), 0);
    sk_checkpoint_entries_free(e, 0);

    static const char *const bad[] = {
        "",                                 /* empty */
        "1\n0\n",                           /* unknown version */
        "0\n2\nt 0 1\n",                    /* fewer entries than announced */
        "0\n1\nt 0 1\nt 1 2\n",             /* more entries than announced */
        "0\n1\nt 0\n",                      /* missing field */
        "0\n1\nt x 1\n",                    /* partition not a number */
        "0\n1\nt -1 1\n",                   /* negative partition */
        "0\n1\nt 0 99999999999999999999\n", /* offset overflow */
        "0\n1\n 0 1\n",                     /* empty topic */
        "0\n-1\n",                          /* negative count */
        "0\n999999999\nt 0 1\n",            /* absurd count */
        "0\n1\nt 0 1 2\n",                  /* extra field */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(sk_checkpoint_parse(bad[i], strlen(bad[i]), &e) == -1, "accepted bad input %zu", i);
}
END_TEST

START_TEST(test_partition_metadata)
{
    uint8_t id[16], back[16];
    char sid[SK_UUID_STR_LEN + 1];
    size_t len;
    ck_assert_int_eq(sk_uuid_random(id), 0);
    sk_uuid_to_string(id, sid);
    char *text = sk_partition_metadata_render(id, &len);
    char want[64];
    snprintf(want, sizeof want, "version: 0\ntopic_id: %s", sid);
    ck_assert_str_eq(text, want);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_int_eq(sk_partition_metadata_parse(text, back), 0);
    ck_assert_mem_eq(id, back, 16);
    free(text);
    snprintf(want, sizeof want, "version: 0\ntopic_id: %s\n", sid);
    ck_assert_int_eq(sk_partition_metadata_parse(want, back), 0);
    ck_assert_int_eq(sk_partition_metadata_parse("version: 1\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA", back), -1);
    ck_assert_int_eq(sk_partition_metadata_parse("version: 0\ntopic_id: short", back), -1);
    snprintf(want, sizeof want, "version: 0\ntopic_id: %sX", sid);
    ck_assert_int_eq(sk_partition_metadata_parse(want, back), -1);
}
END_TEST

static Suite *files_suite(void)
{
    Suite *s = suite_create("log_files");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, test_offset_index);
    tcase_add_test(tc, test_time_index);
    tcase_add_test(tc, test_checkpoint_parse);
    tcase_add_test(tc, test_partition_metadata);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return sk_unit_run(files_suite());
}
