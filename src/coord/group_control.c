/*
 * Control-plane operations on classic groups (the HTTP API for tests):
 * forcing a rebalance and removing a member as if its session expired.
 */
#include "group_int.h"

#include <string.h>

#include "skiff/errors.h"
#include "skiff/trace.h"

int32_t sk_group_member_count(sk_groups *gs, const char *group_id)
{
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    return g ? g->nmembers : -1;
}

int16_t sk_group_force_rebalance(sk_groups *gs, const char *group_id)
{
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    if (!g || g->state == SK_GROUP_DEAD)
        return SK_ERR_GROUP_ID_NOT_FOUND;
    if (g->state == SK_GROUP_EMPTY)
        return SK_ERR_NON_EMPTY_GROUP; /* nothing to rebalance; the caller reports "empty" */
    if (g->state != SK_GROUP_PREPARING_REBALANCE)
        sk_group_maybe_rebalance(gs, g, "rebalance forced through the control plane");
    return SK_ERR_NONE;
}

int16_t sk_group_expire_member(sk_groups *gs, const char *group_id, const char *member_id)
{
    ggroup *g = sk_group_find(gs, group_id, strlen(group_id));
    if (!g || g->state == SK_GROUP_DEAD)
        return SK_ERR_GROUP_ID_NOT_FOUND;
    gmember *m = sk_group_member_find(g, member_id);
    if (!m)
        return SK_ERR_UNKNOWN_MEMBER_ID;
    if (!m->is_new && (m->join_waiter || m->sync_waiter))
        return SK_ERR_REBALANCE_IN_PROGRESS;
    sk_info("group", "group %s: expiring member %s through the control plane", g->group_id, member_id);
    sk_coord_timer_cancel(&gs->timers, &m->heartbeat);
    sk_group_member_session_expired(gs, &m->heartbeat);
    return SK_ERR_NONE;
}
