/* runtime/criu.c: which CRIU is picked, what an old or missing one says,
 * and what is kept from a CRIU log for an error message. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/criu.h"
#include "runtime/util.h"
#include "unit.h"

static char dir[] = "/tmp/cella-unit-criu.XXXXXX";

/* a fake criu that prints VERSION for --version and exits with STATUS otherwise */
static char *fake_criu(const char *name, const char *version, int status)
{
        char *path = xasprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        fprintf(f, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'Version: %s'; exit 0; fi\nexit %d\n", version,
                status);
        fclose(f);
        chmod(path, 0755);
        return path;
}

static void test_explicit_new_enough(void)
{
        char *p = fake_criu("criu-42", "4.2.1", 0);
        char *found = NULL;
        int v = 0;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, &v, &err) == 0);
        CHECK_STREQ(found, p);
        CHECK(v == 40201);
        free(found);
        free(p);
}

static void test_too_old_is_explained(void)
{
        char *p = fake_criu("criu-317", "3.17.1", 0);
        char *found = NULL;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, NULL, &err) < 0);
        CHECK(found == NULL);
        CHECK(strstr(err.msg, "3.17.1") != NULL);
        CHECK(strstr(err.msg, ">= 4.0") != NULL);
        CHECK(strstr(err.msg, "get-criu.sh") != NULL);
        free(p);
}

static void test_missing_is_explained(void)
{
        char *p = xasprintf("%s/nothing-here", dir);
        char *found = NULL;
        struct cella_error err = { 0 };
        CHECK(criu_find(p, &found, NULL, &err) < 0);
        CHECK(strstr(err.msg, "nothing-here") != NULL);
        CHECK(strstr(err.msg, "get-criu.sh") != NULL);
        free(p);
}

static void test_env_is_second(void)
{
        char *p = fake_criu("criu-env", "4.1.1", 0);
        setenv("CELLA_CRIU", p, 1);
        char *found = NULL;
        int v = 0;
        struct cella_error err = { 0 };
        CHECK(criu_find(NULL, &found, &v, &err) == 0);
        CHECK_STREQ(found, p);
        CHECK(v == 40101);
        free(found);
        /* --criu wins over the environment */
        char *q = fake_criu("criu-flag", "4.2.0", 0);
        CHECK(criu_find(q, &found, &v, &err) == 0);
        CHECK_STREQ(found, q);
        free(found);
        unsetenv("CELLA_CRIU");
        free(p);
        free(q);
}

static void test_run_status(void)
{
        char *p = fake_criu("criu-fails", "4.2.1", 3);
        char *argv[] = { "criu", "dump", NULL };
        struct cella_error err = { 0 };
        CHECK(criu_run(p, argv, NULL, 0, NULL, &err) == 3);
        free(p);
}

static void test_log_errors_keep_the_last_three(void)
{
        char *log = xasprintf("%s/dump.log", dir);
        FILE *f = fopen(log, "w");
        fputs("(0.1) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self\n"
              "(0.2) Warn something\n"
              "Error (a.c:1): one\nError (b.c:2): two\nError (c.c:3): three\nError (d.c:4): four\n", f);
        fclose(f);
        char *why = criu_log_errors(log);
        CHECK_STREQ(why, "Error (b.c:2): two; Error (c.c:3): three; Error (d.c:4): four");
        free(why);
        why = criu_log_errors("/nonexistent/dump.log");
        CHECK_STREQ(why, "");
        free(why);
        free(log);
}

int main(void)
{
        if (!mkdtemp(dir))
                return 1;
        RUN(test_explicit_new_enough);
        RUN(test_too_old_is_explained);
        RUN(test_missing_is_explained);
        RUN(test_env_is_second);
        RUN(test_run_status);
        RUN(test_log_errors_keep_the_last_three);
        char *cmd = xasprintf("rm -rf %s", dir);
        if (system(cmd) != 0)
                unit_failures++;
        free(cmd);
        return unit_failures ? 1 : 0;
}
