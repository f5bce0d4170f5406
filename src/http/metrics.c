/*
 * GET /metrics: Prometheus text exposition format.
 */
#include <event2/http.h>

#include "http_int.h"

const sk_http_route sk_http_routes_metrics[] = {
    {0, NULL, NULL, false},
};
