/*
 * ACL APIs: DescribeAcls, CreateAcls and DeleteAcls v1-3, answered as a
 * Kafka broker without an authorizer (authorizer.class.name unset) answers
 * them (AclApis): SECURITY_DISABLED with "No Authorizer is configured on
 * the broker" for DescribeAcls, and SECURITY_DISABLED with "No Authorizer
 * is configured." for each creation and each deletion filter. skiff has no
 * authorizer: every client may do everything, as on such a Kafka.
 */
#include <stdbool.h>
#include <string.h>

#include "admin.h"
#include "kf_msgs.h"
#include "skiff/api.h"
#include "skiff/errors.h"

#define NO_AUTHORIZER "No Authorizer is configured."

void sk_api_describe_acls(sk_request *req)
{
    kf_describe_acls_response *resp = sk_request_response(req);
    if (!resp) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->error_code = SK_ERR_SECURITY_DISABLED;
    resp->error_message = kf_str_c("No Authorizer is configured on the broker");
    sk_request_respond(req, resp);
}

/* `n` results of struct `desc` (the results of CreateAcls and of
 * DeleteAcls both carry error_code and error_message), each refused as
 * Kafka refuses it without an authorizer; NULL when out of memory. */
static void *refused(sk_request *req, const kf_struct_desc *desc, int32_t n)
{
    uint8_t *items = sk_admin_array(req, desc, n);
    const int16_t code = SK_ERR_SECURITY_DISABLED;
    const kf_str message = kf_str_c(NO_AUTHORIZER);
    for (uint16_t f = 0; items && f < desc->nfields; f++) {
        const kf_field *fd = &desc->fields[f];
        bool is_code = !strcmp(fd->name, "error_code"), is_message = !strcmp(fd->name, "error_message");
        for (int32_t i = 0; i < n && (is_code || is_message); i++) {
            uint8_t *p = items + (size_t)i * desc->size + fd->offset;
            if (is_code)
                memcpy(p, &code, sizeof code);
            else
                memcpy(p, &message, sizeof message);
        }
    }
    return items;
}

void sk_api_create_acls(sk_request *req)
{
    const kf_create_acls_request *body = req->body;
    kf_create_acls_response *resp = sk_request_response(req);
    int32_t n = body->creations.n > 0 ? body->creations.n : 0;
    void *results = refused(req, &kf_create_acls_response_acl_creation_result_desc, n);
    if (!resp || !results) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->results.items = results;
    resp->results.n = n;
    sk_request_respond(req, resp);
}

void sk_api_delete_acls(sk_request *req)
{
    const kf_delete_acls_request *body = req->body;
    kf_delete_acls_response *resp = sk_request_response(req);
    int32_t n = body->filters.n > 0 ? body->filters.n : 0;
    void *results = refused(req, &kf_delete_acls_response_delete_acls_filter_result_desc, n);
    if (!resp || !results) {
        sk_request_close(req, "out of memory");
        return;
    }
    resp->filter_results.items = results;
    resp->filter_results.n = n;
    sk_request_respond(req, resp);
}
