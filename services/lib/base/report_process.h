/* Running a program from a service, bounded in time: Ghostscript for the PDF/A, an operator's
 * command for each report a subscriber receives. */
#ifndef REPORT_PROCESS_H
#define REPORT_PROCESS_H

#include <stdint.h>

/* Runs argv (argv[0] looked up in PATH) with its standard input and output on /dev/null and
 * its standard error shared, the environment plus extra_env ("NAME=value" strings, NULL-ended;
 * may be NULL), and waits up to timeout_ms; a child still running then is killed. Returns its
 * exit status, or -1 if it could not be started, was killed or died of a signal. */
int report_process_run(char *const argv[], char *const extra_env[], int64_t timeout_ms);

#endif
