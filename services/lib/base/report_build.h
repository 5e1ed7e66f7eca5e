/* What the binaries were built from, for logs, /status.json and report_build_info. */
#ifndef REPORT_BUILD_H
#define REPORT_BUILD_H

/* The project's version ("0.1.0"); "dev" when the build did not say. */
const char *report_build_version(void);
/* The git commit of the tree the binaries were built from; "unknown" outside git. */
const char *report_build_commit(void);

#endif
