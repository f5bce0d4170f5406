/*
 * startup: measures how fast a broker starts and what it costs at rest.
 *
 *   startup [--port N | --port-from-stdout] [--host H] [--idle-ms MS]
 *           [--timeout-ms MS] [--log FILE] -- COMMAND ARG...
 *
 * Starts COMMAND (every "{port}" in its arguments replaced by the port; with
 * no --port a free loopback port is picked), then connects to host:port in a
 * tight loop (every 100 us) and sends Metadata v0 until one is answered. The
 * start-up time is from just before fork/exec to that first answer. With
 * --port-from-stdout the broker prints its bootstrap "host:port" as the first
 * line of its stdout instead (bench/mock_cluster does). After --idle-ms (default
 * 1000) of rest it reads VmRSS and VmHWM from /proc/PID/status, sends SIGTERM
 * and times the exit. The child's stderr goes to --log FILE (else /dev/null).
 *
 * Prints one JSON object on stdout:
 *   {"ready_ms":..,"listen_ms":..,"rss_idle_kb":..,"hwm_idle_kb":..,"stop_ms":..,"exit_status":..}
 * listen_ms is when the first TCP connect succeeded. Exit status 0, or 1 when
 * the broker never answered within --timeout-ms (default 10000).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A loopback port nobody listens on right now (bound, then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sin;
    if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
        perror("startup: free port");
        exit(1);
    }
    close(fd);
    return ntohs(sin.sin_port);
}

/* Reads "VmRSS:" or "VmHWM:" of pid in kB, -1 if unreadable. */
static long proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n))
            kb = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* Reads the first line of the child's stdout (its bootstrap) before the deadline. */
static int read_bootstrap(int fd, char *line, size_t cap, double deadline)
{
    size_t len = 0;
    while (len + 1 < cap) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            return -1;
        ssize_t n = read(fd, line + len, 1);
        if (n <= 0)
            return -1;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    return 0;
}

static pid_t spawn(char **argv, const char *log_path, int stdout_fd)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int devnull = open("/dev/null", O_RDWR);
    int log = log_path ? open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : devnull;
    dup2(devnull, 0);
    dup2(stdout_fd >= 0 ? stdout_fd : devnull, 1);
    dup2(log >= 0 ? log : devnull, 2);
    execvp(argv[0], argv);
    _exit(127);
}

static void usage(void)
{
    fprintf(stderr, "usage: startup [--port N | --port-from-stdout] [--host H] [--idle-ms MS] "
                    "[--timeout-ms MS] [--log FILE] -- COMMAND ARG...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, idle_ms = 1000, timeout_ms = 10000;
    int from_stdout = 0;
    const char *host = "127.0.0.1", *log_path = NULL;
    int i = 1;
    for (; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc)
            port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--port-from-stdout"))
            from_stdout = 1;
        else if (!strcmp(argv[i], "--host") && i + 1 < argc)
            host = argv[++i];
        else if (!strcmp(argv[i], "--idle-ms") && i + 1 < argc)
            idle_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--timeout-ms") && i + 1 < argc)
            timeout_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--log") && i + 1 < argc)
            log_path = argv[++i];
        else
            usage();
    }
    if (i + 1 >= argc)
        usage();
    char **cmd = &argv[i + 1];
    int ncmd = argc - i - 1;

    if (!from_stdout && port == 0)
        port = free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char **child_argv = calloc((size_t)ncmd + 1, sizeof *child_argv);
    for (int k = 0; k < ncmd; k++) {
        const char *mark = strstr(cmd[k], "{port}");
        if (!mark || from_stdout) {
            child_argv[k] = cmd[k];
            continue;
        }
        size_t len = strlen(cmd[k]) + sizeof port_text;
        child_argv[k] = malloc(len);
        snprintf(child_argv[k], len, "%.*s%s%s", (int)(mark - cmd[k]), cmd[k], port_text, mark + 6);
    }

    int out_pipe[2] = {-1, -1};
    if (from_stdout && pipe2(out_pipe, O_CLOEXEC) != 0) {
        perror("startup: pipe");
        return 1;
    }
    double t0 = now_ms();
    pid_t pid = spawn(child_argv, log_path, out_pipe[1]);
    for (int k = 0; k < ncmd; k++) /* the child has its copy: free the arguments with the port put in */
        if (child_argv[k] != cmd[k])
            free(child_argv[k]);
    free(child_argv);
    if (pid < 0) {
        perror("startup: fork");
        return 1;
    }
    double deadline = t0 + timeout_ms;
    char probe_host[256];
    snprintf(probe_host, sizeof probe_host, "%s", host);
    if (from_stdout) {
        close(out_pipe[1]);
        char line[512];
        if (read_bootstrap(out_pipe[0], line, sizeof line, deadline) != 0 ||
            bench_wire_parse_bootstrap(line, probe_host, sizeof probe_host, &port) != 0) {
            fprintf(stderr, "startup: no bootstrap line from %s\n", cmd[0]);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            return 1;
        }
    }

    double listen_ms = -1, ready_ms = -1;
    while (now_ms() < deadline && ready_ms < 0) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            fprintf(stderr, "startup: %s exited before answering\n", cmd[0]);
            return 1;
        }
        int fd = bench_wire_connect(probe_host, port);
        if (fd < 0) {
            struct timespec pause = {0, 100000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (listen_ms < 0)
            listen_ms = now_ms() - t0;
        if (bench_wire_metadata_v0(fd, 2000) >= 1)
            ready_ms = now_ms() - t0;
        close(fd);
    }
    if (ready_ms < 0) {
        fprintf(stderr, "startup: %s did not answer Metadata within %d ms\n", cmd[0], timeout_ms);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return 1;
    }

    struct timespec idle = {idle_ms / 1000, (long)(idle_ms % 1000) * 1000000L};
    nanosleep(&idle, NULL);
    long rss = proc_status_kb(pid, "VmRSS:"), hwm = proc_status_kb(pid, "VmHWM:");

    double t_stop = now_ms();
    kill(pid, SIGTERM);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() - t_stop > 10000) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        struct timespec pause = {0, 200000};
        nanosleep(&pause, NULL);
    }
    double stop_ms = now_ms() - t_stop;
    int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("{\"ready_ms\":%.3f,\"listen_ms\":%.3f,\"rss_idle_kb\":%ld,\"hwm_idle_kb\":%ld,"
           "\"stop_ms\":%.3f,\"exit_status\":%d}\n",
           ready_ms, listen_ms, rss, hwm, stop_ms, exit_status);
    return 0;
}
