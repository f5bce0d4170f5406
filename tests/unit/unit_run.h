/* The end of every unit test's main: runs `s` (Check's default fork mode,
 * CK_NORMAL output) and gives the process exit status, EXIT_SUCCESS when
 * every test passed. */
#ifndef SKIFF_UNIT_RUN_H
#define SKIFF_UNIT_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int sk_unit_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
