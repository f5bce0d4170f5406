/*
 * `skiff healthcheck`: the container image's health check, which needs no
 * shell. It reads the same settings the broker reads (flags, environment,
 * --config / SKIFF_CONFIG), connects to the first client listener, sends
 * ApiVersions v0 and waits for an answer without error.
 */
#ifndef SKIFF_HEALTHCHECK_H
#define SKIFF_HEALTHCHECK_H

/* Runs the check with `argv` (argv[0] = "healthcheck", then settings as for
 * the broker) and `envp`. A wildcard or empty listener host is checked on
 * loopback. Prints one line to stdout ("healthy: ..." or "unhealthy: ...")
 * and returns the exit status: 0 when the broker answered ApiVersions with
 * error code 0 within 3 s, 1 when it did not, 2 for a bad configuration. */
int sk_healthcheck_main(int argc, char **argv, char **envp);

#endif
