/* A temporary directory per test process, made on first use under /tmp, for
 * tests that write files. */
#ifndef TG_TEST_TMPDIR_H
#define TG_TEST_TMPDIR_H

#include <stdbool.h>

/* The directory (created on first call; a failed mkdtemp fails the test). */
const char *tmp_dir(void);
/* name inside it; the buffer is reused by the next call. */
const char *tmp_path(const char *name);
/* Removes the directory and what it holds (a suite's .fini, or by hand);
 * the next tmp_dir makes a new one. False when removal failed. */
bool tmp_cleanup(void);

#endif
