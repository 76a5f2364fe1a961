/* Reading and writing tensors: NumPy .npy files and NumPy-style printing. */
#ifndef TANGENT_IO_H
#define TANGENT_IO_H

#include <stdio.h>
#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* .npy version 1.0-3.0, every Tangent dtype except f16/bf16 storage types;
 * C and Fortran order are read, C order is written. A truncated file or a
 * header that lies about its shape or dtype is a TG_ERR_IO error. */
tg_tensor  *tg_load_npy(const char *path);
tg_status   tg_save_npy(const tg_tensor *t, const char *path);

/* NumPy-style text: values, "..." past 1000 elements (3 at each edge), then
 * a header line with shape, dtype and device. The string is the caller's:
 * free() it. tg_print writes it and a newline to stdout. */
char       *tg_format(const tg_tensor *t);
tg_status   tg_fprint(FILE *f, const tg_tensor *t);
tg_status   tg_print(const tg_tensor *t);

#ifdef __cplusplus
}
#endif
#include "tangent/location.h"
#endif
