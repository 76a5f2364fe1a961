/* dtype casts, copy and contiguous against oracles/data/cast.json. */
#include <criterion/criterion.h>

#include "support/oracle.h"

ORACLE_ADAPTER(cast, tg_cast(in[0], oracle_attr_dtype(c, "dtype", (tg_dtype)-1)))
ORACLE_ADAPTER(copy, tg_copy(in[0]))
ORACLE_ADAPTER(contiguous, tg_contiguous(in[0]))

static const oracle_entry table[] = {ORACLE_ENTRY(cast), ORACLE_ENTRY(copy), ORACLE_ENTRY(contiguous)};

TestSuite(oracle_cast, .init = tg_clear_error);

Test(oracle_cast, all_pairs) { check_oracle_file("cast.json", table, sizeof table / sizeof *table); }
