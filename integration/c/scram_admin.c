/*
 * librdkafka's SCRAM admin API (2.2+: rd_kafka_AlterUserScramCredentials,
 * rd_kafka_DescribeUserScramCredentials) for integration/test_security.py,
 * compiled by the test against librdkafka 2.15.
 *
 *   scram_admin BOOTSTRAP [key=value]... -- COMMAND [ARG]...
 *     upsert USER MECHANISM ITERATIONS PASSWORD   (MECHANISM: 256 or 512)
 *     delete USER MECHANISM
 *     describe [USER]...                          (none: every user)
 *   Several commands may be joined with "+" as one request, e.g.
 *     upsert a 256 4096 pw + delete b 512
 * Prints one line per result: "USER ok", "USER ERROR_NAME message" for
 * alterations; "USER 256:4096 512:8192" or "USER ERROR_NAME message" for
 * descriptions. Exits 1 when the request as a whole fails.
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rd_kafka_event_t *wait_result(rd_kafka_queue_t *q)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (!ev || rd_kafka_event_error(ev)) {
        fprintf(stderr, "request failed: %s\n", ev ? rd_kafka_event_error_string(ev) : "timed out");
        exit(1);
    }
    return ev;
}

static rd_kafka_ScramMechanism_t mech(const char *s)
{
    return !strcmp(s, "256")   ? RD_KAFKA_SCRAM_MECHANISM_SHA_256
           : !strcmp(s, "512") ? RD_KAFKA_SCRAM_MECHANISM_SHA_512
                               : RD_KAFKA_SCRAM_MECHANISM_UNKNOWN;
}

static void print_error(const char *user, const rd_kafka_error_t *err)
{
    if (err && rd_kafka_error_code(err))
        printf("%s %s %s\n", user, rd_kafka_error_name(err), rd_kafka_error_string(err));
    else
        printf("%s ok\n", user);
}

int main(int argc, char **argv)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int i = 1;
    if (argc < 4 || rd_kafka_conf_set(conf, "bootstrap.servers", argv[i++], errstr, sizeof errstr))
        return 2;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return 2;
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, errstr, sizeof errstr)) {
            fprintf(stderr, "%s\n", errstr);
            return 2;
        }
    }
    i++;
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk)
        return 2;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (i < argc && !strcmp(argv[i], "describe")) {
        const char **users = (const char **)&argv[i + 1];
        rd_kafka_DescribeUserScramCredentials(rk, users, (size_t)(argc - i - 1), NULL, q);
        rd_kafka_event_t *ev = wait_result(q);
        size_t n;
        const rd_kafka_UserScramCredentialsDescription_t **d =
            rd_kafka_DescribeUserScramCredentials_result_descriptions(
                rd_kafka_event_DescribeUserScramCredentials_result(ev), &n);
        for (size_t k = 0; k < n; k++) {
            const char *user = rd_kafka_UserScramCredentialsDescription_user(d[k]);
            const rd_kafka_error_t *err = rd_kafka_UserScramCredentialsDescription_error(d[k]);
            if (err && rd_kafka_error_code(err)) {
                print_error(user, err);
                continue;
            }
            printf("%s", user);
            for (size_t c = 0; c < rd_kafka_UserScramCredentialsDescription_scramcredentialinfo_count(d[k]); c++) {
                const rd_kafka_ScramCredentialInfo_t *ci =
                    rd_kafka_UserScramCredentialsDescription_scramcredentialinfo(d[k], c);
                printf(" %s:%d",
                       rd_kafka_ScramCredentialInfo_mechanism(ci) == RD_KAFKA_SCRAM_MECHANISM_SHA_256 ? "256" : "512",
                       rd_kafka_ScramCredentialInfo_iterations(ci));
            }
            printf("\n");
        }
        rd_kafka_event_destroy(ev);
    } else {
        rd_kafka_UserScramCredentialAlteration_t *alts[16];
        size_t n = 0;
        while (i < argc && n < 16) {
            if (!strcmp(argv[i], "upsert") && i + 4 < argc) {
                alts[n++] = rd_kafka_UserScramCredentialUpsertion_new(argv[i + 1], mech(argv[i + 2]), atoi(argv[i + 3]),
                                                                      (const unsigned char *)argv[i + 4],
                                                                      strlen(argv[i + 4]), NULL, 0);
                i += 5;
            } else if (!strcmp(argv[i], "delete") && i + 2 < argc) {
                alts[n++] = rd_kafka_UserScramCredentialDeletion_new(argv[i + 1], mech(argv[i + 2]));
                i += 3;
            } else {
                return 2;
            }
            if (i < argc && !strcmp(argv[i], "+"))
                i++;
        }
        rd_kafka_AlterUserScramCredentials(rk, alts, n, NULL, q);
        rd_kafka_event_t *ev = wait_result(q);
        size_t cnt;
        const rd_kafka_AlterUserScramCredentials_result_response_t **r =
            rd_kafka_AlterUserScramCredentials_result_responses(rd_kafka_event_AlterUserScramCredentials_result(ev),
                                                                &cnt);
        for (size_t k = 0; k < cnt; k++)
            print_error(rd_kafka_AlterUserScramCredentials_result_response_user(r[k]),
                        rd_kafka_AlterUserScramCredentials_result_response_error(r[k]));
        rd_kafka_event_destroy(ev);
        rd_kafka_UserScramCredentialAlteration_destroy_array(alts, n);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return 0;
}
