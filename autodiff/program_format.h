/* The saved-program file format, shared by program_save.c and
 * program_load.c. */
#ifndef TG_PROGRAM_FORMAT_H
#define TG_PROGRAM_FORMAT_H

/* Saving and loading compiled programs (DESIGN.md section 5).
 *
 * File format, version 1, every integer little-endian:
 *
 *   header   "TANGENTP" | u32 version | u32 flags (0) | u64 body length
 *   body     five sections, in this order, each u32 tag | u64 length | payload
 *     SYMS   u32 count, then entries, each referring only to earlier ones:
 *              u8 0  symbol        u8 length, name
 *              u8 1  floordiv      size num, size den
 *              u8 2  polynomial    u8 terms, each: i64 coef, u8 factors,
 *                                  each: u32 entry (a symbol or floordiv), u8 exponent
 *     VALS   u32 count, each: u8 dtype, u8 rank, rank sizes
 *     CNST   u32 count, each: u32 value, u32 flags (bit 1: weak scalar),
 *                             u64 bytes, raw row-major data
 *     NODE   u32 count, each: u16 length, op name, u8 inputs, u8 outputs,
 *                             u8 ints, u8 reals, ints as sizes, reals as f64,
 *                             u8 has string [u32 length, bytes], u32 input
 *                             values, u32 output values
 *     IOUT   u32 inputs, u32 values, u32 outputs, u32 values
 *   trailer  u32 CRC32 (zlib) of header and body
 *
 *   size     u8 0, i64 plain value | u8 1, i64 SYMS entry (a polynomial)
 *
 * Loading checks the whole file before it builds anything: magic, version,
 * lengths against the bytes left, the CRC, every id and count, dtypes,
 * ranks, symbol names, op names (registered?) and arities, that the graph is
 * in SSA order, then re-runs every node's shape inference on the rebuilt
 * symbolic shapes and compares with the file. Errors are TG_ERR_IO (an op
 * that is not registered: TG_ERR_ARG) naming what is wrong. */

#include "autodiff/graph.h"
#include "tangent/sizes.h"
#include "tensor/symbolic_io.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the program file format stores constants' raw data: little-endian hosts only"
#endif

/* 2: tensors of up to 16 axes; view_scatter's attribute layout widened
 * (format 1 files still load: program_load.c widens them) */
#define FORMAT_VERSION 2u
#define MAGIC "TANGENTP"
#define HEADER_BYTES 24u
#define MAX_SYM_ENTRIES (1 << 20)
#define MAX_ATTR_STR (1 << 20)
#define WEAK_FLAG 2u

enum { SYM_NAME = 0, SYM_DIV = 1, SYM_POLY = 2 };
enum { SIZE_PLAIN = 0, SIZE_EXPR = 1 };

static const char *const section_tags[5] = {"SYMS", "VALS", "CNST", "NODE", "IOUT"};  /* in file order */


#endif
