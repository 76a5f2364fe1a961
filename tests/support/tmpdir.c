/* tests/support/tmpdir.h */
#define _POSIX_C_SOURCE 200809L
#include "support/tmpdir.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

static char dir[256];

const char *tmp_dir(void) {
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/tg_test_XXXXXX");
        cr_assert(mkdtemp(dir) != NULL, "mkdtemp failed");
    }
    return dir;
}

const char *tmp_path(const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", tmp_dir(), name);
    return buf;
}

bool tmp_cleanup(void) {
    if (!dir[0]) return true;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    bool ok = system(cmd) == 0;
    if (!ok) fprintf(stderr, "cannot remove %s\n", dir);
    dir[0] = 0;
    return ok;
}
