/*
 * `skiff ctl`: a command-line client of the HTTP control plane
 * (docs/testing-with-skiff.md). Verbs mirror the endpoints; output is human
 * text, or the server's JSON with --json.
 */
#ifndef SKIFF_CTL_H
#define SKIFF_CTL_H

/* Exit statuses of skiff ctl. */
enum {
    SK_CTL_OK = 0,          /* done; for waits, the condition was met */
    SK_CTL_FAILED = 1,      /* skiff refused the request (4xx/5xx other than 408) */
    SK_CTL_USAGE = 2,       /* bad command line */
    SK_CTL_TIMEOUT = 3,     /* a wait's condition was not met in time (408) */
    SK_CTL_UNREACHABLE = 4, /* cannot connect to skiff, or no HTTP answer */
};

/* Runs `skiff ctl ARGS...` (argv[0] is "ctl"); returns the exit status. */
int sk_ctl_main(int argc, char **argv);

#endif
