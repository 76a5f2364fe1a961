/* Reading and writing tensors: NumPy .npy files and NumPy-style printing. */
#ifndef TANGENT_IO_H
#define TANGENT_IO_H

#include <stdio.h>
#include "tangent/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* NumPy .npy files (tensor/io_npy.c).
 *
 * tg_load_npy reads format versions 1.0, 2.0 and 3.0 with the dtypes |b1,
 * <i4, <i8, <f2 (as f16), <f4, <f8, <c8 and <c16, in either byte order
 * ('>' data are byte-swapped). Fortran-order files load as the same logical
 * tensor; the result is always a fresh C-contiguous CPU tensor. Bytes after
 * the data are ignored, as NumPy does. Errors (NULL result):
 *   TG_ERR_IO     the file cannot be opened (message: path and strerror), bad
 *                 magic or version, a truncated prefix, header or data, a
 *                 header length past the end of the file, a malformed header
 *                 dict (missing, repeated or unknown keys, a bad shape tuple,
 *                 fortran_order not True/False), or a dtype Tangent lacks
 *                 (object, strings, structured, unsigned, ...: the message
 *                 names the descr);
 *   TG_ERR_SHAPE  a negative or overflowing size, or more than TG_MAX_DIMS
 *                 dimensions;
 *   TG_ERR_ARG    path is NULL.
 *
 * tg_save_npy writes any CPU tensor (any strides) as a C-order version 1.0
 * file (2.0 only if the header needed more than 65535 bytes), header padded
 * so the data start at a multiple of 64 bytes, in the host byte order; f16
 * is written as <f2. bf16 gives TG_ERR_UNSUPPORTED (NumPy has no bf16: cast
 * first); a failed write gives TG_ERR_IO naming the path and strerror, and
 * removes the partial file. */
tg_tensor  *tg_load_npy(const char *path);
tg_status   tg_save_npy(const tg_tensor *t, const char *path);

/* NumPy-style text (tensor/io_print.c): the values exactly as NumPy 1.24's
 * str(array) prints them with default print options for the common cases
 * (nested brackets, columns aligned, rows wrapped at 75 characters, "..."
 * for the middle of every axis longer than 6 once numel > 1000, 3 items kept
 * at each edge), then a last line
 *     tensor(shape=(2, 3), dtype=f32, device=cpu)
 * Ints are right-aligned; bools print as True/False; floats use the fewest
 * digits (at most 8 after the point) that read back to the same value in
 * their own dtype, positional ("[1.  2.5 3. ]") unless a non-zero |x| is
 * >= 1e8 or < 1e-4 or max/min of the non-zero |x| > 1000, then scientific
 * with one shared precision ("[1.0e-05 1.5e+00]"); complex prints as
 * "1.+2.j". An empty tensor prints "[]"; a 0-d one its value as NumPy prints
 * the scalar ("2.0", "1e-05", "(1+2j)"). The string is the caller's: free() it.
 * tg_fprint writes it and a newline to f; tg_print to stdout. A NULL tensor
 * or FILE is TG_ERR_ARG (tg_format returns NULL). */
char       *tg_format(const tg_tensor *t);
tg_status   tg_fprint(FILE *f, const tg_tensor *t);
tg_status   tg_print(const tg_tensor *t);

/* safetensors (Hugging Face's format: an 8-byte little-endian header length,
 * a JSON header giving each tensor's dtype, shape and byte range, then the
 * raw little-endian data). Saves n named CPU tensors (any strides; names
 * unique and non-empty). */
tg_status   tg_save_safetensors(const char *path, int n, const char *const *names, tg_tensor *const *tensors);
typedef struct tg_tensor_dict {
    int n;
    char **names;
    tg_tensor **tensors;
} tg_tensor_dict;
/* Loads every tensor of a safetensors file (F32, F64, I32, I64, BOOL, F16,
 * BF16, C64/C128 as Tangent writes them), in file order. A truncated or
 * malformed file is TG_ERR_IO naming what is wrong; *out is then empty. */
tg_status   tg_load_safetensors(const char *path, tg_tensor_dict *out);
void        tg_tensor_dict_free(tg_tensor_dict *d);   /* releases the tensors and names */
#ifdef __cplusplus
}
#endif
/* declarations complete: location.h may now define this header's macros */
#define TG__DECLARED_TANGENT_IO_H
#include "tangent/location.h"
#endif
