/* Running a program from a service, bounded in time: Ghostscript for the PDF/A, an operator's
 * command for each report a subscriber receives. */
#ifndef REPORT_PROCESS_H
#define REPORT_PROCESS_H

#include <stddef.h>
#include <stdint.h>

/* Runs argv (argv[0] looked up in PATH) with its standard input and output on /dev/null and
 * its standard error shared, the environment plus extra_env ("NAME=value" strings, NULL-ended;
 * may be NULL), and waits up to timeout_ms; a child still running then is killed. Returns its
 * exit status, or -1 if it could not be started, was killed or died of a signal. */
int report_process_run(char *const argv[], char *const extra_env[], int64_t timeout_ms);

/* The same with the child's standard output captured: at most max_bytes of it in *out (NUL
 * terminated, the caller frees; the rest is read and dropped). Returns the exit status, or -1
 * as above (*out is then NULL). */
int report_process_output(char *const argv[], int64_t timeout_ms, size_t max_bytes, char **out);

/* A private temporary directory for a child's files (under $TMPDIR or /tmp), its path
 * malloc'd; NULL if it cannot be made. */
char *report_process_tempdir(const char *prefix);
/* Writes size bytes to path (created 0600, truncated). 0, or -1 with errno. */
int report_process_write_file(const char *path, const void *data, size_t size);
/* Removes the files named in names (NULL-ended) from dir, then dir itself. */
void report_process_cleanup(const char *dir, const char *const names[]);

#endif
