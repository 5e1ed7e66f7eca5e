/* Whole files: read one into memory (bounded), or replace one atomically. */
#ifndef REPORT_FILE_H
#define REPORT_FILE_H

#include <stddef.h>

/* The content of path, NUL-terminated (the caller frees), its length in *size (may be NULL).
 * NULL if it cannot be opened or read (errno says why; a directory is EISDIR), or holds more
 * than max bytes (errno EFBIG). */
char *report_file_read(const char *path, size_t max, size_t *size);

/* Replaces path with size bytes of data, atomically: written to a temporary file beside it,
 * flushed to disk (fsync), then renamed over it; a reader sees the old file or the new one,
 * never half of one. 0, or -1 with errno (nothing changed). */
int report_file_replace(const char *path, const void *data, size_t size);

#endif
