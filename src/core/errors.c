/* Names and retriable flags of Kafka error codes, from the SK_ERRORS table. */
#include "skiff/errors.h"

const char *sk_err_name(int16_t code)
{
    switch (code) {
#define SK_ERR_NAME(c, name, retriable) \
    case c:                             \
        return #name;
        SK_ERRORS(SK_ERR_NAME)
#undef SK_ERR_NAME
    }
    return "UNKNOWN";
}

bool sk_err_retriable(int16_t code)
{
    switch (code) {
#define SK_ERR_RETRIABLE(c, name, retriable) \
    case c:                                  \
        return retriable;
        SK_ERRORS(SK_ERR_RETRIABLE)
#undef SK_ERR_RETRIABLE
    }
    return false;
}
