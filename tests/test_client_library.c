/* libreport-client as a unit's programmer gets it: installed with `cmake --install`, found
 * with pkg-config, the README's example compiled against it (nothing of the tree on the
 * include path) and run against a real collector, store and PostgreSQL; the library exports
 * exactly its public API under its SONAME. Also the public API's own refusals (bad JSON,
 * options out of range, missing keys) without a collector. */
#define _GNU_SOURCE
#include "report_client.h"
#include "report_util.h"
#include "test_support.h"

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static test_stack_t stack;
static bool stack_started;
static char work_dir[] = "/tmp/report-client-lib-XXXXXX";

static void teardown(void)
{
    if (stack_started)
        test_stack_stop(&stack);
    stack_started = false;
}

TestSuite(client_library, .fini = teardown, .timeout = 240);

/* Runs a shell command; returns its exit status (or -1), its output in out (caller frees). */
/* The C program between the README's "example push_one.c" markers, written to path. */
static void write_readme_example(const char *path)
{
    char *readme_path = test_repo_path("README.md");
    char *readme = test_read_file(readme_path);
    cr_assert_not_null(readme, "%s", readme_path);
    const char *start = strstr(readme, "<!-- example push_one.c -->");
    cr_assert_not_null(start, "the README has no example push_one.c");
    start = strstr(start, "```c\n");
    cr_assert_not_null(start);
    start += strlen("```c\n");
    const char *end = strstr(start, "```\n<!-- end example -->");
    cr_assert_not_null(end, "the README's example is not closed");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fwrite(start, 1, (size_t)(end - start), f);
    fclose(f);
    free(readme);
    free(readme_path);
}

/* Installs the library under work_dir/prefix and builds the README's example against it
 * through pkg-config alone; returns the example's path (caller frees). */
static char *install_and_build_example(void)
{
    cr_assert_not_null(mkdtemp(work_dir));
    char *out = NULL;
    int rc = test_run_all(&out, "cmake --install '%s' --prefix '%s/prefix'", REPORT_TEST_BUILD_DIR,
                          work_dir);
    cr_assert_eq(rc, 0, "cmake --install failed:\n%s", out);
    free(out);
    char *source = report_sprintf("%s/push_one.c", work_dir);
    write_readme_example(source);
    char *exe = report_sprintf("%s/push_one", work_dir);
    /* -I/-L come only from the installed .pc: a header of the tree cannot leak in */
    rc = test_run_all(&out,
                      "export PKG_CONFIG_PATH='%s/prefix/lib/pkgconfig'; "
                      "cc -std=c11 -Wall -Wextra -Werror %s '%s' -o '%s' "
                      "$(pkg-config --cflags --libs report-client) -Wl,-rpath,'%s/prefix/lib'",
                      work_dir, REPORT_TEST_SANITIZE ? "-fsanitize=address,undefined" : "", source,
                      exe, work_dir);
    cr_assert_eq(rc, 0, "the README's example does not build against the installed library:\n%s",
                 out);
    free(out);
    free(source);
    return exe;
}

Test(client_library, readme_example_pushes_through_the_installed_library)
{
    char *exe = install_and_build_example();
    test_stack_start(&stack, NULL, 1);
    stack_started = true;
    char *key = test_key_path("THANH_TRA");
    char *server = report_sprintf("%s/server.pub", test_keys_dir());
    const char *endpoint = report_collector_endpoint(stack.collector);
    char *out = NULL;
    int rc = test_run_all(&out, "'%s' '%s' '%s' '%s'", exe, endpoint, key, server);
    cr_assert_eq(rc, 0, "first push: exit %d:\n%s", rc, out);
    cr_assert(strncmp(out, "STORED 6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", 43) == 0, "%s", out);
    free(out);
    test_db_assert_value(&stack.db,
                         "SELECT count(*) FROM updates "
                         "WHERE update_id = '6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b'",
                         "1");
    rc = test_run_all(&out, "'%s' '%s' '%s' '%s'", exe, endpoint, key, server);
    cr_assert_eq(rc, 0, "second push: exit %d:\n%s", rc, out);
    cr_assert(strncmp(out, "DUPLICATE 6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b", 46) == 0, "%s", out);
    free(out);
    test_db_assert_value(&stack.db, "SELECT count(*) FROM updates", "1");
    /* the collector's key missing: the example stops before sending */
    rc = test_run_all(&out, "'%s' '%s' '%s' '%s'", exe, endpoint, key, "/nonexistent.pub");
    cr_assert_eq(rc, 2, "missing server key: exit %d:\n%s", rc, out);
    cr_assert(strstr(out, "keys: ") != NULL, "%s", out);
    free(out);
    free(key);
    free(server);
    free(exe);
    test_run_all(NULL, "rm -rf '%s'", work_dir);
}

Test(client_library, exports_only_the_public_api_under_its_soname)
{
    char *lib = report_sprintf("%s/lib/libreport-client.so.1", REPORT_TEST_BUILD_DIR);
    char *out = NULL;
    cr_assert_eq(test_run_all(&out, "readelf -d '%s' | grep SONAME", lib), 0);
    cr_assert(strstr(out, "[libreport-client.so.1]") != NULL, "%s", out);
    free(out);
    cr_assert_eq(test_run_all(&out, "nm -D --defined-only '%s' | awk '{print $3}' | sort", lib), 0);
    /* every name the public header declares, and nothing else: version 1.0's, and under
     * REPORT_CLIENT_1.1 the one function added since */
    char *header = test_repo_path("services/client/include/report_client.h");
    char *expected = NULL;
    cr_assert_eq(
        test_run_all(
            &expected,
            "{ echo REPORT_CLIENT_1.0; echo REPORT_CLIENT_1.1; "
            "grep -o '^REPORT_CLIENT_EXPORT [^(]*(' '%s' | "
            "sed -E 's/.*[ *]([a-z_0-9]+)\\($/\\1@@REPORT_CLIENT_1.0/' | "
            "sed -E 's/^(report_client_failovers)@@REPORT_CLIENT_1.0$/\\1@@REPORT_CLIENT_1.1/'"
            "; } | sort",
            header),
        0);
    cr_assert_str_eq(out, expected, "exported:\n%s\ndeclared:\n%s", out, expected);
    cr_assert_geq(strlen(expected), 200, "the header's declarations were not found");
    free(expected);
    free(header);
    free(out);
    /* the database driver and the server-side code stay out of a client */
    cr_assert_neq(test_run_all(&out, "readelf -d '%s' | grep -E 'libpq|libmicrohttpd|libssl'", lib),
                  0, "%s", out);
    free(out);
    free(lib);
}

Test(client_library, refuses_bad_input_without_sending)
{
    cr_assert_null(report_client_new(NULL));
    /* an endpoint list is checked when the client is made, not at the first push */
    cr_assert_null(report_client_new(""));
    cr_assert_null(report_client_new("tcp://127.0.0.1:1,,tcp://127.0.0.1:2"));
    cr_assert_null(report_client_new("tcp://127.0.0.1"));
    cr_assert_null(report_client_new("collector.example:5570"));
    report_client_t *client = report_client_new(" tcp://127.0.0.1:1 , tcp://127.0.0.1:2");
    cr_assert_not_null(client);
    cr_assert_eq(report_client_failovers(client), 0);
    report_client_destroy(&client);
    client = report_client_new("tcp://127.0.0.1:1");
    cr_assert_not_null(client);
    cr_assert_eq(report_client_set(client, REPORT_CLIENT_WINDOW, 0), -1);
    cr_assert(strstr(report_client_error(client), "window") != NULL, "%s",
              report_client_error(client));
    cr_assert_eq(report_client_set(client, (report_client_option_t)99, 1), -1);
    cr_assert_eq(report_client_set(client, REPORT_CLIENT_WINDOW, 1), 0);
    cr_assert_str_eq(report_client_error(client), "");
    cr_assert_eq(report_client_set_keys(client, "/nonexistent.key", "/nonexistent.pub"), -1);
    cr_assert_neq(report_client_error(client)[0], '\0');

    const char *bad = "[{\"update_id\": \"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b\", \"unit\": 7}]";
    report_push_t *push = report_client_push_json(client, bad, strlen(bad));
    cr_assert_eq(report_push_status(push), REPORT_PUSH_FAILED);
    cr_assert_eq(report_push_count(push), 0);
    cr_assert_neq(report_push_error(push)[0], '\0');
    cr_assert_null(report_push_update_id(push, 0));
    cr_assert_eq(report_push_outcome(push, 0), REPORT_CLIENT_UNKNOWN);
    report_push_destroy(&push);
    cr_assert_null(push);

    /* no collector listens: the update ends UNKNOWN at the deadline */
    cr_assert_eq(report_client_set(client, REPORT_CLIENT_TIMEOUT_MS, 100), 0);
    cr_assert_eq(report_client_set(client, REPORT_CLIENT_DEADLINE_MS, 500), 0);
    const char *one = "{\"update_id\": \"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b\", \"unit\": "
                      "\"THANH_TRA\", \"period\": \"2018-07\", \"section\": \"result\", "
                      "\"area\": \"THANH_TRA\", \"item_key\": \"k\", \"text\": \"x\"}";
    push = report_client_push_json(client, one, strlen(one));
    cr_assert_eq(report_push_status(push), REPORT_PUSH_UNKNOWN);
    cr_assert_eq(report_push_count(push), 1);
    cr_assert_eq(report_push_outcome(push, 0), REPORT_CLIENT_UNKNOWN);
    cr_assert_str_eq(report_push_reason(push, 0), "unknown");
    cr_assert_str_eq(report_client_outcome_name(report_push_outcome(push, 0)), "UNKNOWN");
    report_push_destroy(&push);
    report_client_destroy(&client);
    cr_assert_null(client);
    report_client_destroy(NULL);
    cr_assert_str_eq(report_client_version(), "1.1.0");
}
