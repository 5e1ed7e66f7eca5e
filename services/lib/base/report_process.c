/* A child process with a deadline. */
#define _GNU_SOURCE
#include "report_process.h"
#include "report_util.h"

#include <errno.h>
#include <fcntl.h>
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

int report_process_run(char *const argv[], char *const extra_env[], int64_t timeout_ms)
{
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char **env = s_environment(extra_env);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &actions, NULL, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    free(env);
    if (rc != 0)
        return -1;
    int64_t deadline = report_clock_ms() + timeout_ms;
    int status = 0;
    for (;;) {
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
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
