#!/usr/bin/python3
"""Oracle cases for tg_einsum, written to oracles/data/einsum.json.

Op "einsum" (attrs.subscripts): values from numpy.einsum, computed in
f64/c128 from the exact inputs and rounded to NumPy's result dtype. Op
"vjp:einsum": the operands, then the cotangent of the output; the outputs are
the operands' cotangents from torch.einsum + torch.autograd.grad (PyTorch's
conjugate-Wirtinger convention for complex numbers is Tangent's).
Run with Debian's /usr/bin/python3 (numpy 1.24, torch 1.13)."""
import json
import os

import numpy as np
import torch

np._set_promotion_state("weak")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "einsum.json")
NP = {"f32": np.float32, "f64": np.float64, "c64": np.complex64, "c128": np.complex128}
NAME = {np.dtype(v): k for k, v in NP.items()}
rng = np.random.default_rng(20261123)


def tj(a):
    a = np.asarray(a)
    d = NAME[a.dtype]
    flat = a.ravel(order="C")
    if d in ("c64", "c128"):
        data = [[float(x.real), float(x.imag)] for x in flat]
    else:
        data = [float(x) for x in flat]
    return {"dtype": d, "shape": list(a.shape), "data": data}


def rand(d, shape):
    x = rng.uniform(-2, 2, size=shape)
    if d in ("c64", "c128"):
        x = x + 1j * rng.uniform(-2, 2, size=shape)
    # values exactly representable in the dtype
    return np.asarray(x, dtype=NP[d])


def hp(a):
    return a.astype(np.complex128 if np.iscomplexobj(a) else np.float64)


cases = []


def value(name, sub, specs, error=None):
    ins = [rand(d, s) for d, s in specs]
    case = {"name": name, "op": "einsum", "attrs": {"subscripts": sub}, "inputs": [tj(x) for x in ins]}
    if error:
        case["error"] = error
    else:
        out_dtype = np.einsum(sub, *ins).dtype
        want = np.einsum(sub, *[hp(x) for x in ins]).astype(out_dtype)
        case["outputs"] = [tj(np.asarray(want))]
    cases.append(case)


def grad(name, sub, specs):
    ins = [rand(d, s) for d, s in specs]
    ts = [torch.tensor(x, requires_grad=True) for x in ins]
    y = torch.einsum(sub, *ts)
    cot = rand(NAME[np.dtype(y.detach().numpy().dtype)], tuple(y.shape))
    gs = torch.autograd.grad(y, ts, torch.tensor(cot))
    cases.append({"name": name, "op": "vjp:einsum", "attrs": {"subscripts": sub, "n_primal": len(ins)},
                  "inputs": [tj(x) for x in ins] + [tj(cot)],
                  "outputs": [tj(g.detach().resolve_conj().numpy()) for g in gs]})


F, D = "f64", "f64"
value("matmul/f64", "ij,jk->ik", [(D, (3, 4)), (D, (4, 5))])
value("matmul/f32", "ij,jk->ik", [("f32", (3, 4)), ("f32", (4, 5))])
value("batched_matmul", "bij,bjk->bik", [(D, (2, 3, 4)), (D, (2, 4, 5))])
value("trace", "ii", [(D, (4, 4))])
value("trace_explicit", "ii->", [(D, (3, 3))])
value("diagonal", "ii->i", [(D, (4, 4))])
value("transpose", "ij->ji", [(D, (3, 5))])
value("transpose_implicit", "ba", [(D, (3, 5))])
value("sum_all", "ij->", [(D, (3, 5))])
value("sum_axis", "ijk->ik", [(D, (2, 3, 4))])
value("outer", "i,j->ij", [(D, (3,)), (D, (4,))])
value("dot", "i,i->", [(D, (5,)), (D, (5,))])
value("hadamard", "ij,ij->ij", [(D, (2, 3)), (D, (2, 3))])
value("ellipsis_bcast", "...ij,...jk->...ik", [(D, (2, 1, 3, 4)), (D, (5, 4, 2))])
value("ellipsis_middle", "i...j,j->i...", [(D, (2, 3, 4, 5)), (D, (5,))])
value("ellipsis_implicit", "...ij,jk", [(D, (2, 3, 4)), (D, (4, 2))])
value("err/ellipsis_dropped", "i...->i", [(D, (2, 3, 4))], "TG_ERR_ARG")
value("ellipsis_empty", "i...->i", [(D, (2,))])
value("repeated_multi", "iij,jk->ik", [(D, (3, 3, 4)), (D, (4, 2))])
value("repeated_three", "iii->i", [(D, (3, 3, 3))])
value("implicit_matmul", "ij,jk", [(D, (3, 4)), (D, (4, 5))])
value("implicit_upper", "ab,Cb", [(D, (3, 4)), (D, (2, 4))])
value("implicit_scalar", "ij,ij", [(D, (3, 4)), (D, (3, 4))])
value("single_sum_multi", "ij,jk->i", [(D, (3, 4)), (D, (4, 5))])
value("chain3", "ij,jk,kl->il", [(D, (2, 3)), (D, (3, 4)), (D, (4, 5))])
value("chain4", "ab,bc,cd,de->ae", [(D, (2, 6)), (D, (6, 3)), (D, (3, 5)), (D, (5, 2))])
value("five_ops", "ea,fb,abcd,gc,hd->efgh",
      [(D, (2, 3)), (D, (2, 2)), (D, (3, 2, 2, 3)), (D, (2, 2)), (D, (2, 3))])
value("batch_three", "bi,bij,bj->b", [(D, (3, 4)), (D, (3, 4, 5)), (D, (3, 5))])
value("complex/c128", "ij,jk->ik", [("c128", (3, 4)), ("c128", (4, 2))])
value("complex/c64", "bij,bjk->bik", [("c64", (2, 3, 4)), ("c64", (2, 4, 2))])
value("complex/mixed_real", "ij,j->i", [("c64", (3, 4)), ("f64", (4,))])
value("mixed/f32_f64", "ij,jk->ik", [("f32", (3, 4)), ("f64", (4, 5))])
value("mixed/outer_f32_f64", "i,j->ij", [("f32", (3,)), ("f64", (2,))])
value("size1/contracted", "ij,jk->ik", [(D, (3, 1)), (D, (4, 5))])
value("size1/batch", "ij,ij->ij", [(D, (3, 1)), (D, (1, 4))])
value("scalar/operand", ",ij->ij", [(D, ()), (D, (2, 3))])
value("scalar/only", "->", [(D, ())])
value("spaces", " ij , jk -> ik ", [(D, (2, 3)), (D, (3, 2))])
value("err/size_conflict", "ij,jk->ik", [(D, (3, 4)), (D, (5, 2))], "TG_ERR_SHAPE")
value("err/rank", "ij->i", [(D, (3, 4, 5))], "TG_ERR_SHAPE")
value("err/repeated_out", "ij->ii", [(D, (3, 4))], "TG_ERR_ARG")
value("err/unknown_out", "ij->k", [(D, (3, 4))], "TG_ERR_ARG")
value("err/bad_char", "i1,j->ij", [(D, (3, 4)), (D, (2,))], "TG_ERR_ARG")
value("err/two_arrows", "ij->j->i", [(D, (3, 4))], "TG_ERR_ARG")
value("err/bad_ellipsis", "i..j->i", [(D, (3, 4))], "TG_ERR_ARG")
value("err/operand_count", "ij,jk->ik", [(D, (3, 4))], "TG_ERR_ARG")

grad("grad/matmul", "ij,jk->ik", [(D, (3, 4)), (D, (4, 5))])
grad("grad/trace", "ii->", [(D, (4, 4))])
grad("grad/diagonal", "ii->i", [(D, (3, 3))])
grad("grad/batched", "bij,bjk->bik", [(D, (2, 3, 4)), (D, (2, 4, 2))])
grad("grad/ellipsis_bcast", "...ij,...jk->...ik", [(D, (2, 1, 3, 4)), (D, (5, 4, 2))])
grad("grad/repeated_multi", "iij,jk->ik", [(D, (3, 3, 4)), (D, (4, 2))])
grad("grad/single_sum", "ij,jk->i", [(D, (3, 4)), (D, (4, 5))])
grad("grad/chain3", "ij,jk,kl->il", [(D, (2, 3)), (D, (3, 4)), (D, (4, 5))])
grad("grad/outer", "i,j->ij", [(D, (3,)), (D, (4,))])
grad("grad/complex", "ij,jk->ik", [("c128", (3, 4)), ("c128", (4, 2))])
grad("grad/complex_three", "bi,bij,bj->b", [("c128", (2, 3)), ("c128", (2, 3, 4)), ("c128", (2, 4))])

# Past 6 operands tg_einsum's auto path is random-greedy + subtree
# reconfiguration; past 8 labels an intermediate is stored with labels fused.
# (The harness takes at most 8 inputs per case; tests/test_einsum.c checks a
# 70-operand chain against tg_matmul.)
value("many/ring8", "ab,bc,cd,de,ef,fg,gh,ha->", [(D, (3, 3))] * 8)
value("many/chain8_implicit", "ab,bc,cd,de,ef,fg,gh,hi",
      [(D, (2 + k % 3, 2 + (k + 1) % 3)) for k in range(8)])
value("many/ring8_open", "ab,bc,cd,de,ef,fg,gh,hi->ai", [(D, (2, 3)), (D, (3, 2)), (D, (2, 4)), (D, (4, 2)),
                                                          (D, (2, 3)), (D, (3, 2)), (D, (2, 2)), (D, (2, 3))])
value("wide/interleaved", "ab,cd,ef,gh,ij,bdfhj->acegi", [(D, (2, 3))] * 5 + [(D, (3, 3, 3, 3, 3))])
grad("grad/ring7", "ab,bc,cd,de,ef,fg,ga->", [(D, (2, 3)), (D, (3, 2)), (D, (2, 4)), (D, (4, 2)),
                                               (D, (2, 3)), (D, (3, 2)), (D, (2, 2))])
grad("grad/chain7_open", "ab,bc,cd,de,ef,fg,gh->ah", [(D, (2, 3)), (D, (3, 2)), (D, (2, 4)), (D, (4, 2)),
                                                       (D, (2, 3)), (D, (3, 2)), (D, (2, 2))])

# Outer products whose second operand's labels lead in the output: computed
# in the output's order (b's group first); and an intermediate outer product
# whose larger group goes last.
value("outer/b_first_batched", "tkj,to->tokj", [(D, (3, 2, 4)), (D, (3, 5))])
value("outer/b_first_permuted", "tjk,to->tokj", [(D, (3, 2, 4)), (D, (3, 5))])
value("outer/interleaved", "i,jk->jik", [(D, (3,)), (D, (2, 4))])
value("outer/intermediate", "a,bc,cd->abd", [(D, (2,)), (D, (5, 3)), (D, (3, 2))])
grad("grad/outer_b_first", "tkj,to->tokj", [(D, (3, 2, 4)), (D, (3, 5))])

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    f.write('{"generator": "oracles/gen_einsum.py", "numpy": %s, "torch": %s, "cases": [\n'
            % (json.dumps(np.__version__), json.dumps(torch.__version__)))
    f.write(",\n".join(json.dumps(c, separators=(",", ":"), allow_nan=False) for c in cases))
    f.write("\n]}\n")
print("einsum.json:", len(cases), "cases")
