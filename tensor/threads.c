/* One thread count for Tangent's OpenMP loops and OpenBLAS. */
#include "tensor/tensor_impl.h"

#include <cblas.h>
#include <omp.h>

static int num_threads;   /* 0: default */

void tg_set_num_threads(int n) {
    num_threads = n > 0 ? n : 0;
    int eff = tg__num_threads();
    omp_set_num_threads(eff);
    openblas_set_num_threads(eff);
}

int tg_get_num_threads(void) { return tg__num_threads(); }

/* omp_get_max_threads costs more than a tiny op can afford: read it once
 * per thread. */
static _Thread_local int default_threads;
int tg__num_threads(void) {
    if (num_threads > 0) return num_threads;
    if (!default_threads) default_threads = omp_get_max_threads();
    return default_threads;
}

const char *tg_version(void) { return TG_VERSION_STRING; }
