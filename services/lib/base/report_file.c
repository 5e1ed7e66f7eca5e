/* Whole-file helpers. */
#define _GNU_SOURCE
#include "report_file.h"
#include "report_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *report_file_read(const char *path, size_t max, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    report_buf_t b;
    report_buf_init(&b);
    char chunk[65536];
    size_t n;
    bool too_big = false;
    while (!too_big && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        too_big = n > max - b.len;
        if (!too_big)
            report_buf_add(&b, chunk, n);
    }
    int read_errno = ferror(f) ? errno : 0; /* a directory, an I/O error: not an empty file */
    fclose(f);
    if (too_big || read_errno) {
        report_buf_free(&b);
        errno = too_big ? EFBIG : read_errno;
        return NULL;
    }
    if (size)
        *size = b.len;
    char *data = report_buf_take(&b);
    return data ? data : report_strdup("");
}

int report_file_replace(const char *path, const void *data, size_t size)
{
    char *tmp = report_sprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd >= 0) {
        const char *p = data;
        size_t off = 0;
        while (off < size) {
            ssize_t n = write(fd, p + off, size - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        if (off == size && fsync(fd) == 0)
            rc = 0;
        int saved = errno;
        close(fd);
        if (rc == 0 && rename(tmp, path) != 0)
            rc = -1;
        if (rc != 0) {
            saved = errno;
            unlink(tmp);
        }
        errno = saved;
    }
    free(tmp);
    return rc;
}
