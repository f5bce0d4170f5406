/*
 * skiff ctl (placeholder until the CLI lands).
 */
#include "skiff/ctl.h"

int sk_ctl_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return SK_CTL_USAGE;
}
