/* Build information, set by CMake on this file alone (REPORT_VERSION, REPORT_GIT_COMMIT), so
 * a new commit recompiles one file. */
#include "report_build.h"

#ifndef REPORT_VERSION
#define REPORT_VERSION "dev"
#endif
#ifndef REPORT_GIT_COMMIT
#define REPORT_GIT_COMMIT "unknown"
#endif

const char *report_build_version(void)
{
    return REPORT_VERSION;
}

const char *report_build_commit(void)
{
    return REPORT_GIT_COMMIT;
}
