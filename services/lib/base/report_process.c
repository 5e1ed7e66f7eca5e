/* A child process with a deadline. */
#define _GNU_SOURCE
#include "report_process.h"
#include "report_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* environ followed by extra (the later of two equal names wins in getenv's search order only
 * if it comes first: extra goes first). Caller frees the array, not the strings. */
static char **s_environment(char *const extra[])
{
    size_t n = 0, e = 0;
    while (environ[n])
        n++;
    while (extra && extra[e])
        e++;
    char **env = report_calloc(n + e + 1, sizeof *env);
    for (size_t i = 0; i < e; i++)
        env[i] = extra[i];
    for (size_t i = 0; i < n; i++)
        env[e + i] = environ[i];
    return env;
}

/* Starts argv with stdin on /dev/null and stdout on out_fd (or /dev/null when -1). */
static int s_spawn(char *const argv[], char *const extra_env[], int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    else
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char **env = s_environment(extra_env);
    int rc = posix_spawnp(pid, argv[0], &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    free(env);
    return rc == 0 ? 0 : -1;
}

/* Waits for pid until deadline, reading from fd (if >= 0) into out meanwhile. */
static int s_wait(pid_t pid, int64_t deadline, int fd, report_buf_t *out, size_t max_bytes)
{
    int status = 0;
    for (;;) {
        if (fd >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            if (poll(&pfd, 1, 10) > 0) {
                char chunk[4096];
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n > 0 && out->len < max_bytes)
                    report_buf_add(out, chunk,
                                   (size_t)n < max_bytes - out->len ? (size_t)n
                                                                    : max_bytes - out->len);
                if (n > 0)
                    continue;
                if (n == 0)
                    fd = -1; /* end of output; wait for the exit */
            }
        }
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            break;
        if (done < 0 && errno != EINTR)
            return -1;
        if (report_clock_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        if (fd < 0) {
            struct timespec pause = {0, 10 * 1000 * 1000};
            nanosleep(&pause, NULL);
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int report_process_run(char *const argv[], char *const extra_env[], int64_t timeout_ms)
{
    pid_t pid;
    if (s_spawn(argv, extra_env, -1, &pid) != 0)
        return -1;
    return s_wait(pid, report_clock_ms() + timeout_ms, -1, NULL, 0);
}

int report_process_output(char *const argv[], int64_t timeout_ms, size_t max_bytes, char **out)
{
    *out = NULL;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    pid_t pid;
    int rc = s_spawn(argv, NULL, fds[1], &pid);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        return -1;
    }
    report_buf_t buf;
    report_buf_init(&buf);
    rc = s_wait(pid, report_clock_ms() + timeout_ms, fds[0], &buf, max_bytes);
    close(fds[0]);
    if (rc < 0) {
        report_buf_free(&buf);
        return -1;
    }
    *out = report_buf_take(&buf);
    if (!*out)
        *out = report_strdup("");
    return rc;
}

char *report_process_tempdir(const char *prefix)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = report_sprintf("%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    if (mkdtemp(dir))
        return dir;
    free(dir);
    return NULL;
}

int report_process_write_file(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        p += n;
        size -= (size_t)n;
    }
    return close(fd);
}

void report_process_cleanup(const char *dir, const char *const names[])
{
    for (size_t i = 0; names && names[i]; i++) {
        char *path = report_sprintf("%s/%s", dir, names[i]);
        unlink(path);
        free(path);
    }
    rmdir(dir);
}
