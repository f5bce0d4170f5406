/* Invariant failures (skiff/invariant.h). */
#include <stdlib.h>

#include "skiff/invariant.h"
#include "skiff/trace.h"

_Noreturn void sk_invariant_failed(const char *cond, const char *what, const char *file, int line)
{
    sk_error("invariant", "invariant broken: %s (%s) at %s:%d", cond, what ? what : "", file, line);
    abort();
}
