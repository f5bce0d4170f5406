/*
 * Dispatch: the handler table is the only list of the APIs skiff serves;
 * ApiVersions advertises exactly these, with the version ranges of their
 * schemas.
 */
#include "kf_msgs.h"
#include "skiff/api.h"

static const sk_api_handler handlers[] = {
    [KF_API_PRODUCE] = sk_api_produce,
    [KF_API_FETCH] = sk_api_fetch,
    [KF_API_LIST_OFFSETS] = sk_api_list_offsets,
    [KF_API_METADATA] = sk_api_metadata,
    [KF_API_API_VERSIONS] = sk_api_versions,
    [KF_API_FIND_COORDINATOR] = sk_api_find_coordinator,
};

sk_api_handler sk_api_handler_find(int16_t key)
{
    if (key < 0 || (size_t)key >= sizeof handlers / sizeof handlers[0])
        return NULL;
    return handlers[key];
}

void sk_api_dispatch(sk_request *req)
{
    sk_api_handler_find(req->hdr.api_key)(req);
}
