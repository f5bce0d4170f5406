/*
 * skiff ctl: the command line of the HTTP control plane. One table row per
 * command: its words, the HTTP method and path (positional arguments fill
 * the path's %s, percent-encoded), and its flags, each turned into a JSON
 * body field (or a query parameter for GET). Durations take ms, s or m
 * suffixes (plain numbers are ms).
 *
 *   skiff ctl [--url http://host:port] [--token T] [--json] COMMAND [ARGS] [FLAGS]
 *
 * The URL defaults to $SKIFF_HTTP_URL, else http://localhost:9644; the
 * token (skiff.http.token) to $SKIFF_HTTP_TOKEN. Exit
 * statuses: skiff/ctl.h.
 */
#include "ctl_int.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum flag_type { F_STR, F_INT, F_DUR, F_NUM, F_BOOL, F_LIST, F_NAME } flag_type;

typedef struct ctl_flag {
    const char *flag;  /* without the leading -- */
    const char *field; /* JSON field or query parameter */
    flag_type type;    /* F_NAME: a string, or an integer when it is all digits (API keys, error codes) */
} ctl_flag;

typedef struct ctl_cmd {
    const char *words;             /* e.g. "fault add" */
    const char *method;            /* HTTP method */
    const char *path;              /* with one %s per positional argument */
    int npos;                      /* positional arguments */
    const char *usage;             /* positional arguments and flags, for --help */
    const ctl_flag *flags;         /* its flags, ended by a NULL name */
    bool query;                    /* flags go to the query string (GET) */
    bool wait;                     /* a long poll: --timeout sets timeout_ms */
    void (*human)(const cJSON *j); /* prints the answer for people; NULL: ctl_print_human */
} ctl_cmd;

static const ctl_flag fault_flags[] = {
    {"api", "api", F_NAME},
    {"version", "version", F_INT},
    {"client-id", "client_id", F_STR},
    {"topic", "topic", F_STR},
    {"partition", "partition", F_INT},
    {"group", "group_id", F_STR},
    {"transactional-id", "transactional_id", F_STR},
    {"node", "node_id", F_INT},
    {"error", "error", F_NAME},
    {"error-level", "error_level", F_STR},
    {"delay", "delay_ms", F_DUR},
    {"close", "close", F_STR},
    {"blackhole", "blackhole", F_BOOL},
    {"throttle", "throttle_time_ms", F_DUR},
    {"once", "once", F_BOOL},
    {"times", "times", F_INT},
    {"after", "after", F_INT},
    {"probability", "probability", F_NUM},
    {"seed", "seed", F_INT},
    {"for", "duration_ms", F_DUR},
    {NULL, NULL, F_STR},
};
static const ctl_flag group_wait_flags[] = {
    {"state", "state", F_STR},
    {"members", "members", F_INT},
    {"generation", "min_generation", F_INT},
    {NULL, NULL, F_STR},
};
static const ctl_flag topic_wait_flags[] = {{"partitions", "partitions", F_INT}, {NULL, NULL, F_STR}};
static const ctl_flag partition_wait_flags[] = {
    {"high-watermark", "high_watermark", F_INT},
    {"last-stable-offset", "last_stable_offset", F_INT},
    {NULL, NULL, F_STR},
};
static const ctl_flag txn_wait_flags[] = {{"state", "state", F_STR}, {NULL, NULL, F_STR}};
static const ctl_flag timed_flags[] = {{"for", "duration_ms", F_DUR}, {NULL, NULL, F_STR}};
static const ctl_flag capture_start_flags[] = {
    {"api", "apis", F_LIST},
    {"capacity", "capacity", F_INT},
    {"bodies", "bodies", F_BOOL},
    {NULL, NULL, F_STR},
};
static const ctl_flag capture_list_flags[] = {
    {"api", "api", F_STR}, {"client-id", "client_id", F_STR}, {"since", "since", F_INT}, {"limit", "limit", F_INT},
    {NULL, NULL, F_STR},
};
static const ctl_flag no_flags[] = {{NULL, NULL, F_STR}};
static const ctl_flag leader_flags[] = {{"node", "node_id", F_INT}, {NULL, NULL, F_STR}};
static const ctl_flag down_flags[] = {{"leaderless", "leaderless", F_BOOL}, {NULL, NULL, F_STR}};
static const ctl_flag seed_flags[] = {{"seed", "seed", F_INT}, {NULL, NULL, F_STR}};

static void human_rule(const cJSON *r);
static void human_rules(const cJSON *j);
static void human_capture(const cJSON *j);
static void human_wait(const cJSON *j);

static const ctl_cmd commands[] = {
    {"health", "GET", "/readyz", 0, "", no_flags, false, false, NULL},
    {"fault add", "POST", "/v1/faults", 0,
     "--api NAME [--error E | --close before|after | --blackhole] [--delay D] [--throttle D] [--version N] "
     "[--client-id S] [--topic T] [--partition P] [--group G] [--transactional-id X] [--node ID] [--error-level L] "
     "[--once | --times N] [--after N] [--probability P] [--seed S] [--for D]",
     fault_flags, false, false, human_rule},
    {"fault list", "GET", "/v1/faults", 0, "", no_flags, false, false, human_rules},
    {"fault show", "GET", "/v1/faults/%s", 1, "ID", no_flags, false, false, human_rule},
    {"fault rm", "DELETE", "/v1/faults/%s", 1, "ID", no_flags, false, false, human_rule},
    {"fault clear", "DELETE", "/v1/faults", 0, "", no_flags, false, false, NULL},
    {"wait group", "POST", "/v1/waits/group", 1, "GROUP [--state S] [--members N] [--generation N] [--timeout D]",
     group_wait_flags, false, true, human_wait},
    {"wait topic", "POST", "/v1/waits/topic", 1, "TOPIC [--partitions N] [--timeout D]", topic_wait_flags, false, true,
     human_wait},
    {"wait partition", "POST", "/v1/waits/partition", 2,
     "TOPIC PARTITION [--high-watermark O] [--last-stable-offset O] [--timeout D]", partition_wait_flags, false, true,
     human_wait},
    {"wait txn", "POST", "/v1/waits/transaction", 1, "TRANSACTIONAL_ID [--state S] [--timeout D]", txn_wait_flags,
     false, true, human_wait},
    {"group describe", "GET", "/v1/groups/%s", 1, "GROUP", no_flags, false, false, NULL},
    {"group rebalance", "POST", "/v1/groups/%s/rebalance", 1, "GROUP", no_flags, false, false, NULL},
    {"group remove-member", "DELETE", "/v1/groups/%s/members/%s", 2, "GROUP MEMBER_ID", no_flags, false, false, NULL},
    {"topic describe", "GET", "/v1/topics/%s", 1, "TOPIC", no_flags, false, false, NULL},
    {"topic roll", "POST", "/v1/topics/%s/roll", 1, "TOPIC", no_flags, false, false, NULL},
    {"partition roll", "POST", "/v1/topics/%s/partitions/%s/roll", 2, "TOPIC PARTITION", no_flags, false, false, NULL},
    {"topic compact", "POST", "/v1/topics/%s/compact", 1, "TOPIC [--timeout D]", no_flags, false, true, human_wait},
    {"retention", "POST", "/v1/log/retention", 0, "", no_flags, false, false, NULL},
    {"txn describe", "GET", "/v1/transactions/%s", 1, "TRANSACTIONAL_ID", no_flags, false, false, NULL},
    {"broker", "GET", "/v1/broker", 0, "", no_flags, false, false, NULL},
    {"broker pause", "POST", "/v1/broker/pause", 0, "[--for D]", timed_flags, false, false, NULL},
    {"broker resume", "POST", "/v1/broker/resume", 0, "", no_flags, false, false, NULL},
    {"broker refuse", "POST", "/v1/broker/refuse-connections", 0, "[--for D]", timed_flags, false, false, NULL},
    {"broker accept", "POST", "/v1/broker/accept-connections", 0, "", no_flags, false, false, NULL},
    {"capture start", "POST", "/v1/capture", 0, "[--api NAME]... [--capacity N] [--bodies true|false]",
     capture_start_flags, false, false, NULL},
    {"capture stop", "POST", "/v1/capture/stop", 0, "", no_flags, false, false, NULL},
    {"capture list", "GET", "/v1/capture", 0, "[--api NAME] [--client-id S] [--since ID] [--limit N]",
     capture_list_flags, true, false, human_capture},
    {"capture clear", "DELETE", "/v1/capture", 0, "", no_flags, false, false, NULL},
    {"metrics", "GET", "/metrics", 0, "", no_flags, false, false, NULL},
    {"cluster", "GET", "/v1/cluster", 0, "", no_flags, false, false, NULL},
    {"cluster down", "POST", "/v1/cluster/brokers/%s/down", 1, "NODE_ID [--leaderless true|false]", down_flags, false,
     false, NULL},
    {"cluster up", "POST", "/v1/cluster/brokers/%s/up", 1, "NODE_ID", no_flags, false, false, NULL},
    {"cluster shuffle", "POST", "/v1/cluster/leaders/shuffle", 0, "[--seed N]", seed_flags, false, false, NULL},
    {"partition route", "GET", "/v1/cluster/topics/%s/partitions/%s", 2, "TOPIC PARTITION", no_flags, false, false,
     NULL},
    {"partition move", "POST", "/v1/cluster/topics/%s/partitions/%s/leader", 2, "TOPIC PARTITION [--node ID]",
     leader_flags, false, false, NULL},
    {"partition leaderless", "POST", "/v1/cluster/topics/%s/partitions/%s/leaderless", 2, "TOPIC PARTITION --for D",
     timed_flags, false, false, NULL},
    {"group move", "POST", "/v1/cluster/groups/%s/coordinator", 1, "GROUP [--node ID]", leader_flags, false, false,
     NULL},
    {"txn move", "POST", "/v1/cluster/transactions/%s/coordinator", 1, "TRANSACTIONAL_ID [--node ID]", leader_flags,
     false, false, NULL},
    {NULL, NULL, NULL, 0, NULL, NULL, false, false, NULL},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: skiff ctl [--url http://host:port] [--token T] [--json] COMMAND [ARGS] [FLAGS]\n"
               "  --url   the HTTP control plane (default $SKIFF_HTTP_URL, else http://localhost:9644)\n"
               "  --json  print skiff's JSON answers as they are\n"
               "  --token bearer token (skiff.http.token; default $SKIFF_HTTP_TOKEN)\n"
               "durations (D): 500ms, 2s, 1m, or plain milliseconds\n"
               "exit status: 0 done (wait: condition met), 1 refused by skiff, 2 bad usage,\n"
               "             3 wait timed out, 4 skiff unreachable\ncommands:\n");
    for (const ctl_cmd *c = commands; c->words; c++)
        fprintf(f, "  %s %s\n", c->words, c->usage);
}

/* Milliseconds of "500ms", "2s", "1m" or "250"; -1 when malformed. */
static long long parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double mult = !strcmp(end, "") || !strcmp(end, "ms") ? 1
                  : !strcmp(end, "s")                    ? 1000
                  : !strcmp(end, "m")                    ? 60000
                                                         : -1;
    return mult < 0 ? -1 : (long long)(v * mult);
}

static bool all_digits(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

/* Adds flag `f` with text `v` to `body`; false when the value is malformed. */
static bool add_flag(cJSON *body, const ctl_flag *f, const char *v)
{
    char *end;
    switch (f->type) {
    case F_STR:
        return cJSON_AddStringToObject(body, f->field, v) != NULL;
    case F_NAME:
        return all_digits(v) ? cJSON_AddNumberToObject(body, f->field, atof(v)) != NULL
                             : cJSON_AddStringToObject(body, f->field, v) != NULL;
    case F_INT: {
        long long n = strtoll(v, &end, 10);
        return *v && !*end && cJSON_AddNumberToObject(body, f->field, (double)n);
    }
    case F_NUM: {
        double d = strtod(v, &end);
        return *v && !*end && cJSON_AddNumberToObject(body, f->field, d);
    }
    case F_DUR: {
        long long ms = parse_duration(v);
        return ms >= 0 && cJSON_AddNumberToObject(body, f->field, (double)ms);
    }
    case F_BOOL:
        if (strcmp(v, "true") && strcmp(v, "false"))
            return false;
        return cJSON_AddBoolToObject(body, f->field, !strcmp(v, "true")) != NULL;
    case F_LIST: {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(body, f->field);
        if (!arr)
            arr = cJSON_AddArrayToObject(body, f->field);
        cJSON_AddItemToArray(arr, all_digits(v) ? cJSON_CreateNumber(atof(v)) : cJSON_CreateString(v));
        return true;
    }
    }
    return false;
}

/* Appends `s` percent-encoded (all but unreserved characters) to `out`. */
static void url_encode(char *out, size_t len, const char *s)
{
    size_t n = strlen(out);
    for (; *s && n + 4 < len; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~')
            out[n++] = (char)ch;
        else
            n += (size_t)snprintf(out + n, len - n, "%%%02X", ch);
    }
    out[n] = '\0';
}

/* The path with the positional arguments filled in. */
static void fill_path(char *out, size_t len, const char *tmpl, char **pos)
{
    out[0] = '\0';
    int k = 0;
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            url_encode(out, len, pos[k++]);
            p++;
        } else {
            size_t n = strlen(out);
            if (n + 1 < len) {
                out[n] = *p;
                out[n + 1] = '\0';
            }
        }
    }
}

/* Adds the body's fields to the path as a query string. */
static void add_query(char *path, size_t len, const cJSON *body)
{
    char sep = '?';
    for (const cJSON *it = body->child; it; it = it->next) {
        size_t n = strlen(path);
        snprintf(path + n, len - n, "%c%s=", sep, it->string);
        char num[32];
        if (cJSON_IsString(it)) {
            url_encode(path, len, it->valuestring);
        } else {
            snprintf(num, sizeof num, "%.0f", it->valuedouble);
            url_encode(path, len, num);
        }
        sep = '&';
    }
}

int sk_ctl_main(int argc, char **argv)
{
    ctl_opts o = {getenv("SKIFF_HTTP_URL") ? getenv("SKIFF_HTTP_URL") : "http://localhost:9644", false, 10000,
                  getenv("SKIFF_HTTP_TOKEN")};
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--json")) {
            o.json = true;
        } else if (!strcmp(argv[i], "--url") && i + 1 < argc) {
            o.url = argv[++i];
        } else if (!strncmp(argv[i], "--url=", 6)) {
            o.url = argv[i] + 6;
        } else if (!strcmp(argv[i], "--token") && i + 1 < argc) {
            o.token = argv[++i];
        } else if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return SK_CTL_OK;
        } else {
            fprintf(stderr, "skiff ctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return SK_CTL_USAGE;
        }
    }
    /* The longest command whose words match. */
    const ctl_cmd *cmd = NULL;
    int words = 0;
    for (const ctl_cmd *c = commands; c->words; c++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", c->words);
        int n = 0;
        bool ok = true;
        for (char *w = strtok(buf, " "); w && ok; w = strtok(NULL, " "), n++)
            ok = i + n < argc && !strcmp(argv[i + n], w);
        if (ok && n > words) {
            cmd = c;
            words = n;
        }
    }
    if (!cmd) {
        fprintf(stderr, "skiff ctl: unknown command%s%s\n", i < argc ? " " : "", i < argc ? argv[i] : "");
        usage(stderr);
        return SK_CTL_USAGE;
    }
    i += words;
    char *pos[2] = {NULL, NULL};
    int npos = 0;
    cJSON *body = cJSON_CreateObject();
    long long timeout_ms = -1;
    for (; i < argc; i++) {
        if (strncmp(argv[i], "--", 2)) {
            if (npos >= cmd->npos) {
                fprintf(stderr, "skiff ctl: %s: unexpected argument %s\n", cmd->words, argv[i]);
                goto bad;
            }
            pos[npos++] = argv[i];
            continue;
        }
        const char *name = argv[i] + 2;
        if (cmd->wait && !strcmp(name, "timeout")) {
            if (i + 1 >= argc || (timeout_ms = parse_duration(argv[++i])) < 0) {
                fprintf(stderr, "skiff ctl: --timeout needs a duration (e.g. 30s)\n");
                goto bad;
            }
            continue;
        }
        const ctl_flag *f = cmd->flags;
        while (f->flag && strcmp(f->flag, name))
            f++;
        if (!f->flag) {
            fprintf(stderr, "skiff ctl: %s: unknown flag --%s\n", cmd->words, name);
            goto bad;
        }
        const char *v =
            f->type == F_BOOL && (i + 1 >= argc || (strcmp(argv[i + 1], "true") && strcmp(argv[i + 1], "false")))
                ? "true"
            : i + 1 < argc ? argv[++i]
                           : NULL;
        if (!v || !add_flag(body, f, v)) {
            fprintf(stderr, "skiff ctl: %s: bad value for --%s\n", cmd->words, name);
            goto bad;
        }
    }
    if (npos != cmd->npos) {
        fprintf(stderr, "usage: skiff ctl %s %s\n", cmd->words, cmd->usage);
        goto bad;
    }
    char path[2048];
    fill_path(path, sizeof path, cmd->path, pos);
    if (cmd->wait) {
        static const char *const name_fields[] = {"/v1/waits/group",
                                                  "group_id",
                                                  "/v1/waits/topic",
                                                  "topic",
                                                  "/v1/waits/partition",
                                                  "topic",
                                                  "/v1/waits/transaction",
                                                  "transactional_id",
                                                  NULL};
        for (int k = 0; name_fields[k]; k += 2)
            if (!strcmp(cmd->path, name_fields[k]))
                cJSON_AddStringToObject(body, name_fields[k + 1], pos[0]);
        if (npos == 2)
            cJSON_AddNumberToObject(body, "partition", atof(pos[1]));
        if (timeout_ms < 0)
            timeout_ms = 30000;
        cJSON_AddNumberToObject(body, "timeout_ms", (double)timeout_ms);
        o.io_timeout_ms = (int)(timeout_ms + 10000);
    }
    char *text = NULL;
    if (cmd->query)
        add_query(path, sizeof path, body);
    else if (strcmp(cmd->method, "GET") && strcmp(cmd->method, "DELETE"))
        text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    ctl_answer a;
    int rc = ctl_http(&o, cmd->method, path, text, &a);
    free(text);
    if (rc != SK_CTL_OK)
        return rc;
    return ctl_finish(&o, &a, cmd->human);
bad:
    cJSON_Delete(body);
    return SK_CTL_USAGE;
}

/* ---- Human output ------------------------------------------------------- */

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *name, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void human_rule(const cJSON *r)
{
    static const char *const skip[] = {"id", "api", "api_key", "matched", "fired", "active", NULL};
    printf("rule %.0f: api %s (key %.0f)", num_of(r, "id", 0), str_of(r, "api") ? str_of(r, "api") : "?",
           num_of(r, "api_key", -1));
    for (const cJSON *it = r->child; it; it = it->next) {
        bool skipped = false;
        for (int k = 0; skip[k] && !skipped; k++)
            skipped = !strcmp(skip[k], it->string);
        if (skipped)
            continue;
        char *s = cJSON_PrintUnformatted(it);
        printf(" %s=%s", it->string, s && cJSON_IsString(it) ? it->valuestring : s ? s : "?");
        free(s);
    }
    const cJSON *active = cJSON_GetObjectItemCaseSensitive(r, "active");
    printf("; matched %.0f, fired %.0f%s\n", num_of(r, "matched", 0), num_of(r, "fired", 0),
           cJSON_IsFalse(active) ? " (spent)" : "");
}

static void human_rules(const cJSON *j)
{
    const cJSON *rules = cJSON_GetObjectItemCaseSensitive(j, "rules");
    if (!cJSON_GetArraySize(rules))
        printf("no fault rules\n");
    for (const cJSON *r = rules ? rules->child : NULL; r; r = r->next)
        human_rule(r);
}

static void human_capture(const cJSON *j)
{
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(j, "entries");
    const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(j, "enabled");
    printf("capture %s, %d entries shown\n", cJSON_IsTrue(enabled) ? "on" : "off", cJSON_GetArraySize(entries));
    for (const cJSON *e = entries ? entries->child : NULL; e; e = e->next) {
        char *errs = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(e, "error_codes"));
        const char *client = str_of(e, "client_id");
        printf("%.0f conn %.0f %s v%.0f client %s correlation %.0f: %s, errors %s\n", num_of(e, "id", 0),
               num_of(e, "connection_id", 0), str_of(e, "api") ? str_of(e, "api") : "?", num_of(e, "api_version", 0),
               client ? client : "-", num_of(e, "correlation_id", 0), str_of(e, "outcome") ? str_of(e, "outcome") : "?",
               errs ? errs : "[]");
        free(errs);
    }
}

static void human_wait(const cJSON *j)
{
    printf("condition met\n");
    ctl_print_human(cJSON_GetObjectItemCaseSensitive(j, "state"));
}
