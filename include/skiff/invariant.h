/*
 * Invariant checks: conditions that hold unless skiff itself has a bug (not
 * conditions on input, which get Kafka's error codes). Debug and sanitizer
 * builds define SKIFF_CHECK_INVARIANTS (CMakeLists.txt): there a broken
 * invariant logs one error line naming the condition, file and line, and
 * aborts, so the test that broke it fails at the spot. Release builds
 * compile the checks away (the condition is not evaluated).
 */
#ifndef SKIFF_INVARIANT_H
#define SKIFF_INVARIANT_H

#ifdef SKIFF_CHECK_INVARIANTS
/* SK_INVARIANT(cond, what): aborts when `cond` is false; `what` (a string)
 * says whose invariant it is, e.g. the partition directory. */
#define SK_INVARIANT(cond, what)                                    \
    do {                                                            \
        if (!(cond))                                                \
            sk_invariant_failed(#cond, (what), __FILE__, __LINE__); \
    } while (0)
#else
#define SK_INVARIANT(cond, what) ((void)sizeof((cond) ? 1 : 0), (void)sizeof(what))
#endif

/* Logs "invariant broken: COND (WHAT) at FILE:LINE" as an error and aborts. */
_Noreturn void sk_invariant_failed(const char *cond, const char *what, const char *file, int line);

#endif
