/*
 * Group administration: DescribeGroups, ListGroups and DeleteGroups, as
 * Kafka's group coordinator answers them (GroupMetadataManager.
 * describeGroups / listGroups, GroupCoordinatorShard.deleteGroups).
 *
 * - DescribeGroups: an unknown group is "Dead" with no error and no
 *   members. The protocol (protocol_data) and the members' metadata are
 *   filled in only in Stable; the members' assignments always.
 * - ListGroups: every group, simple groups included (protocol type ""),
 *   filtered by state names compared case-insensitively and by type
 *   ("classic" is the only type here).
 * - DeleteGroups: only Empty groups (NON_EMPTY_GROUP otherwise); the
 *   group's offsets and the group get tombstones.
 */
#include <ctype.h>
#include <string.h>

#include "cgroup_int.h"
#include "skiff/errors.h"
#include "skiff/trace.h"

int sk_group_describe(sk_groups *gs, kf_str group_id, kf_describe_groups_response_group *out, sk_arena *arena)
{
    ggroup *g = sk_group_find_str(gs, group_id);
    out->error_code = SK_ERR_NONE;
    out->group_id = group_id;
    out->protocol_type = kf_str_c("");
    out->protocol_data = kf_str_c("");
    out->members.items = NULL;
    out->members.n = 0;
    if (!g || g->consumer) { /* DescribeGroups v0-5 describe a consumer group as Dead, as Kafka */
        out->group_state = kf_str_c(sk_group_state_name(SK_GROUP_DEAD));
        return 0;
    }
    bool stable = g->state == SK_GROUP_STABLE;
    out->group_state = kf_str_c(sk_group_state_name(g->state));
    if (g->protocol_type)
        out->protocol_type = kf_str_c(g->protocol_type);
    if (stable && g->protocol_name)
        out->protocol_data = kf_str_c(g->protocol_name);
    kf_describe_groups_response_member *m = sk_arena_alloc(arena, (size_t)g->nmembers * sizeof *m + 1);
    if (!m)
        return -1;
    int32_t i = 0;
    for (const gmember *x = g->members; x; x = x->next, i++) {
        const gprotocol *p = stable ? sk_group_member_protocol(x, g->protocol_name) : NULL;
        m[i].member_id = kf_str_c(x->member_id);
        m[i].group_instance_id = kf_str_c(x->group_instance_id);
        m[i].client_id = kf_str_c(x->client_id);
        m[i].client_host = kf_str_c(x->client_host);
        m[i].member_metadata.p = p ? p->metadata : NULL;
        m[i].member_metadata.len = p ? p->metadata_len : 0;
        m[i].member_assignment.p = x->assignment;
        m[i].member_assignment.len = x->assignment_len;
    }
    out->members.items = m;
    out->members.n = g->nmembers;
    return 0;
}

/* Case-insensitive comparison of a filter entry (spaces around it
 * ignored, as Kafka trims it) with a name. */
static bool filter_matches(kf_str f, const char *name)
{
    if (!f.p)
        return false;
    const char *p = f.p, *end = f.p + f.len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    size_t n = strlen(name);
    if ((size_t)(end - p) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)p[i]) != tolower((unsigned char)name[i]))
            return false;
    return true;
}

static bool filter_any(const kf_str *f, int32_t n, const char *name)
{
    if (n <= 0)
        return true;
    for (int32_t i = 0; i < n; i++)
        if (filter_matches(f[i], name))
            return true;
    return false;
}

int32_t sk_groups_list(sk_groups *gs, const kf_str *states, int32_t nstates, const kf_str *types, int32_t ntypes,
                       kf_list_groups_response_group **out, sk_arena *arena)
{
    kf_list_groups_response_group *l = sk_arena_alloc(arena, gs->index.count * sizeof *l + 1);
    if (!l)
        return -1;
    int32_t n = 0;
    for (const ggroup *g = gs->first; g; g = g->next) {
        const char *state =
            g->consumer ? sk_cgroup_state_name(sk_cgroup_state_of(g->consumer)) : sk_group_state_name(g->state);
        const char *type = g->consumer ? "consumer" : "classic";
        if (!filter_any(states, nstates, state) || !filter_any(types, ntypes, type))
            continue;
        l[n].group_id = kf_str_c(g->group_id);
        l[n].protocol_type = kf_str_c(g->protocol_type ? g->protocol_type : "");
        l[n].group_state = kf_str_c(state);
        l[n].group_type = kf_str_c(type);
        n++;
    }
    *out = l;
    return n;
}

int16_t sk_group_delete(sk_groups *gs, kf_str group_id)
{
    ggroup *g = sk_group_find_str(gs, group_id);
    if (!g)
        return SK_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != SK_GROUP_EMPTY || (g->consumer && g->consumer->nmembers > 0))
        return SK_ERR_NON_EMPTY_GROUP;
    grecs b;
    sk_grecs_init(&b);
    /* Pending transactional offsets go too (deleteAllOffsets). */
    int32_t offsets = sk_group_offset_tombstones(gs, g, NULL, &b);
    if (g->consumer)
        sk_cgroup_tombstones(g, &b);
    else
        sk_grecs_group_tombstone(&b, g->group_id);
    sk_info("group", "group %s: deleting it with %d committed offsets (DeleteGroups)", g->group_id, offsets);
    int16_t err = sk_group_write_deletion(gs, g, &b, "deleted by DeleteGroups");
    sk_grecs_free(&b);
    return err;
}
