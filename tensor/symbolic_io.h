/* Read access to the interned symbolic sizes, for saving programs
 * (autodiff/program_io.c). Loading rebuilds sizes with the public
 * tg_size_symbol/add/sub/mul/floordiv, which re-interns them. */
#ifndef TG_SYMBOLIC_IO_H
#define TG_SYMBOLIC_IO_H

#include <stdbool.h>
#include <stdint.h>

#define TG__SYM_MAX_TERMS 16
#define TG__SYM_MAX_FACTORS 6
#define TG__SYM_MAX_DEGREE 8
#define TG__SYM_MAX_NAME 32

typedef struct tg__sym_term {
    int64_t coef;
    int nf;
    int atom[TG__SYM_MAX_FACTORS];    /* process-local atom ids */
    int exp[TG__SYM_MAX_FACTORS];
} tg__sym_term;

/* Terms of handle h (a polynomial over atoms); returns the term count, or -1
 * when h is not a symbolic handle. t has room for TG__SYM_MAX_TERMS. */
int tg__size_terms(int64_t h, tg__sym_term *t);
/* Atom id: a named symbol (name filled) or floor(num / den) (sizes filled).
 * false for an unknown id. */
bool tg__size_atom(int id, bool *is_div, char name[TG__SYM_MAX_NAME], int64_t *num, int64_t *den);

#endif
