/* tg_matmul against oracles/data/matmul.json. */
#include <criterion/criterion.h>

#include "support/oracle.h"

ORACLE_ADAPTER(matmul, tg_matmul(in[0], in[1]))

static const oracle_entry table[] = {ORACLE_ENTRY(matmul)};

TestSuite(oracle_matmul, .init = tg_clear_error);

Test(oracle_matmul, all) { check_oracle_file("matmul.json", table, sizeof table / sizeof *table); }
