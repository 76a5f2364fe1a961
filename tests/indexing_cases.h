/* Runs the NumPy/PyTorch oracle cases of oracles/data/indexing.json
 * (written by oracles/gen_indexing.py) for test_indexing.c, test_shaping.c
 * and test_sort.c: builds each case's inputs (with their views), calls the
 * op, and compares every output or the expected error code. */
#ifndef TG_TEST_INDEXING_CASES_H
#define TG_TEST_INDEXING_CASES_H

#include "support/check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TG_MAX_OP_INPUTS_TEST 16

static cJSON *ic_root;

static cJSON *ic_load(void) {
    if (ic_root) return ic_root;
    const char *path = TG_ORACLE_DIR "/indexing.json";
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (run /usr/bin/python3 oracles/gen_indexing.py)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert(buf);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = 0;
    ic_root = cJSON_Parse(buf);
    free(buf);
    cr_assert(ic_root, "%s is not valid JSON", path);
    return ic_root;
}

static double ic_real(const cJSON *v) {
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        return strcmp(s, "nan") == 0 ? NAN : strcmp(s, "inf") == 0 ? INFINITY : -INFINITY;
    }
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? 1 : 0;
    return v->valuedouble;
}

static tg_dtype ic_dtype(const char *s) {
    for (int d = 0; d < TG_NUM_DTYPES; d++)
        if (strcmp(tg_dtype_name((tg_dtype)d), s) == 0) return (tg_dtype)d;
    cr_assert_fail("unknown dtype %s", s);
    return TG_F64;
}

static int ic_ints(const cJSON *arr, int64_t *out) {
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, arr) out[n++] = (int64_t)v->valuedouble;
    return n;
}

static int64_t ic_opt(const cJSON *v) { return !v || cJSON_IsNull(v) ? TG_NONE : (int64_t)v->valuedouble; }

/* A tensor from {"dtype", "shape", "data", "view"?}, owned by the current scope. */
static tg_tensor *ic_tensor(const cJSON *spec) {
    tg_dtype dt = ic_dtype(cJSON_GetObjectItem(spec, "dtype")->valuestring);
    int64_t shape[TG_MAX_DIMS];
    int nd = ic_ints(cJSON_GetObjectItem(spec, "shape"), shape);
    const cJSON *data = cJSON_GetObjectItem(spec, "data");
    int n = cJSON_GetArraySize(data);
    size_t es = tg_dtype_size(dt);
    char *buf = calloc((size_t)(n ? n : 1), es);
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, data) {
        char *p = buf + (size_t)i * es;
        switch (dt) {
        case TG_BOOL: *(uint8_t *)p = ic_real(v) != 0; break;
        case TG_I32: *(int32_t *)p = (int32_t)v->valuedouble; break;
        case TG_I64: *(int64_t *)p = (int64_t)v->valuedouble; break;
        case TG_F32: *(float *)p = (float)ic_real(v); break;
        case TG_F64: *(double *)p = ic_real(v); break;
        case TG_C64:
            ((float *)p)[0] = (float)ic_real(cJSON_GetArrayItem(v, 0));
            ((float *)p)[1] = (float)ic_real(cJSON_GetArrayItem(v, 1));
            break;
        case TG_C128:
            ((double *)p)[0] = ic_real(cJSON_GetArrayItem(v, 0));
            ((double *)p)[1] = ic_real(cJSON_GetArrayItem(v, 1));
            break;
        default: cr_assert_fail("dtype %s in oracle data", tg_dtype_name(dt));
        }
        i++;
    }
    tg_tensor *t = tg_from_data(dt, nd, shape, buf);
    free(buf);
    cr_assert(t, "tg_from_data: %s", tg_last_error());
    const cJSON *view;
    cJSON_ArrayForEach(view, cJSON_GetObjectItem(spec, "view")) {
        const char *kind = cJSON_GetArrayItem(view, 0)->valuestring;
        if (strcmp(kind, "permute") == 0) {
            int64_t p64[TG_MAX_DIMS];
            int perm[TG_MAX_DIMS], k = ic_ints(cJSON_GetArrayItem(view, 1), p64);
            for (int j = 0; j < k; j++) perm[j] = (int)p64[j];
            t = tg_permute(t, perm);
        } else if (strcmp(kind, "slice") == 0) {
            t = tg_slice(t, cJSON_GetArrayItem(view, 1)->valueint, ic_opt(cJSON_GetArrayItem(view, 2)),
                         ic_opt(cJSON_GetArrayItem(view, 3)), ic_opt(cJSON_GetArrayItem(view, 4)));
        } else {
            int64_t sh[TG_MAX_DIMS];
            int k = ic_ints(cJSON_GetArrayItem(view, 1), sh);
            t = tg_expand(t, k, sh);
        }
        cr_assert(t, "view %s: %s", kind, tg_last_error());
    }
    return t;
}

static int64_t ic_attr(const cJSON *attrs, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(attrs, key);
    cr_assert(v, "attribute %s missing", key);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : (int64_t)v->valuedouble;
}

/* Runs one case; returns false when its op is not one of ops (NULL-ended). */
static bool ic_run_case(const cJSON *c, const char *const *ops) {
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    const char *op = cJSON_GetObjectItem(c, "op")->valuestring;
    bool mine = false;
    for (int k = 0; ops[k]; k++) mine |= strcmp(ops[k], op) == 0;
    if (!mine) return false;
    const cJSON *attrs = cJSON_GetObjectItem(c, "attrs");
    tg_clear_error();
    tg_scope_begin();
    tg_tensor *in[TG_MAX_OP_INPUTS_TEST];
    int nin = 0;
    const cJSON *spec;
    cJSON_ArrayForEach(spec, cJSON_GetObjectItem(c, "inputs")) in[nin++] = ic_tensor(spec);
    tg_tensor *out[32] = {NULL};
    tg_status st = TG_OK;
    bool status_op = false;
    if (strcmp(op, "gather") == 0) out[0] = tg_gather(in[0], (int)ic_attr(attrs, "axis"), in[1]);
    else if (strcmp(op, "index_select") == 0) out[0] = tg_index_select(in[0], (int)ic_attr(attrs, "axis"), in[1]);
    else if (strcmp(op, "scatter_add") == 0) out[0] = tg_scatter_add(in[0], (int)ic_attr(attrs, "axis"), in[1], in[2]);
    else if (strcmp(op, "one_hot") == 0) out[0] = tg_one_hot(in[0], ic_attr(attrs, "num_classes"));
    else if (strcmp(op, "concat") == 0) out[0] = tg_concat(nin, in, (int)ic_attr(attrs, "axis"));
    else if (strcmp(op, "stack") == 0) out[0] = tg_stack(nin, in, (int)ic_attr(attrs, "axis"));
    else if (strcmp(op, "pad") == 0) {
        int64_t pads[2 * TG_MAX_DIMS];
        ic_ints(cJSON_GetObjectItem(attrs, "pads"), pads);
        out[0] = tg_pad(in[0], pads, cJSON_GetObjectItem(attrs, "value")->valuedouble);
    } else if (strcmp(op, "flip") == 0) {
        const cJSON *ax = cJSON_GetObjectItem(attrs, "axes");
        int64_t a64[TG_MAX_DIMS];
        int axes[TG_MAX_DIMS], n = cJSON_IsNull(ax) ? 0 : ic_ints(ax, a64);
        for (int k = 0; k < n; k++) axes[k] = (int)a64[k];
        out[0] = tg_flip(in[0], n, cJSON_IsNull(ax) ? NULL : axes);
    } else if (strcmp(op, "tril") == 0) out[0] = tg_tril(in[0], ic_attr(attrs, "k"));
    else if (strcmp(op, "triu") == 0) out[0] = tg_triu(in[0], ic_attr(attrs, "k"));
    else if (strcmp(op, "split") == 0) {
        const cJSON *sz = cJSON_GetObjectItem(attrs, "sizes");
        int64_t sizes[32];
        int n = (int)ic_attr(attrs, "n_out");
        if (!cJSON_IsNull(sz)) ic_ints(sz, sizes);
        st = tg_split(in[0], (int)ic_attr(attrs, "axis"), n, cJSON_IsNull(sz) ? NULL : sizes, out);
        status_op = true;
    } else if (strcmp(op, "sort") == 0) {
        st = tg_sort(in[0], (int)ic_attr(attrs, "axis"), ic_attr(attrs, "descending"), &out[0], &out[1]);
        status_op = true;
    } else if (strcmp(op, "argsort") == 0) {
        out[0] = tg_argsort(in[0], (int)ic_attr(attrs, "axis"), ic_attr(attrs, "descending"));
    } else if (strcmp(op, "topk") == 0) {
        st = tg_topk(in[0], ic_attr(attrs, "k"), (int)ic_attr(attrs, "axis"), ic_attr(attrs, "largest"), &out[0],
                     &out[1]);
        status_op = true;
    } else if (strcmp(op, "cumsum") == 0) out[0] = tg_cumsum(in[0], (int)ic_attr(attrs, "axis"));
    else if (strcmp(op, "cumprod") == 0) out[0] = tg_cumprod(in[0], (int)ic_attr(attrs, "axis"));
    else cr_assert_fail("%s: unknown op %s", name, op);

    const cJSON *err = cJSON_GetObjectItem(c, "error");
    if (err) {
        tg_status want = TG_OK;
        for (int s = 0; s <= TG_ERR_UNSUPPORTED; s++)
            if (strcmp(tg_status_name((tg_status)s), err->valuestring) == 0) want = (tg_status)s;
        cr_assert(strstr(tg_last_error(), "tg_"), "%s: message names no op: %s", name, tg_last_error());
        if (status_op) {
            check_status(st, want, name);
            cr_assert(out[0] == NULL && out[1] == NULL, "%s: outputs set on failure", name);
        } else {
            check_error(out[0], want, name);
        }
    } else {
        cr_assert_eq(st, TG_OK, "%s: %s", name, tg_last_error());
        int k = 0;
        cJSON_ArrayForEach(spec, cJSON_GetObjectItem(c, "outputs")) {
            char what[160];
            snprintf(what, sizeof what, "%s (output %d)", name, k);
            check_close_default(out[k], ic_tensor(spec), what);
            k++;
        }
        cr_assert_eq(tg_last_error_code(), TG_OK, "%s: stray error %s", name, tg_last_error());
    }
    tg_scope_end();
    return true;
}

/* Runs every case of the listed ops; fails when there is none. */
static void ic_run_ops(const char *const *ops) {
    const cJSON *c;
    int ran = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(ic_load(), "cases")) ran += ic_run_case(c, ops);
    cr_assert(ran > 0, "no oracle cases for %s", ops[0]);
    cr_log_info("%s: %d oracle cases", ops[0], ran);
}
#define check_cases(...) ic_run_ops((const char *const[]){__VA_ARGS__, NULL})


#endif
