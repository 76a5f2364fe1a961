"""Shared by the linalg oracle generators (gen_linalg*.py): the JSON
encoding of arrays and seeded random inputs."""
import numpy as np

DT = {'f32': np.float32, 'f64': np.float64, 'c64': np.complex64, 'c128': np.complex128}


def num(v):
    """A float, or "nan" / "inf" / "-inf" (strict JSON has no non-finite numbers)."""
    v = float(v)
    return v if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))


def enc(a, view=None):
    """{"dtype", "shape", "data"[, "view"]}: int32 as i32, other integers as
    i64, complex as [re, im] pairs."""
    a = np.asarray(a)
    if a.dtype.kind in 'iu':
        out = {"dtype": "i32" if a.dtype == np.int32 else "i64", "shape": list(a.shape),
               "data": [int(v) for v in a.reshape(-1)]}
    else:
        name = {np.dtype(v): k for k, v in DT.items()}[a.dtype]
        flat = a.reshape(-1)
        data = [[num(v.real), num(v.imag)] for v in flat] if np.iscomplexobj(a) else [num(v) for v in flat]
        out = {"dtype": name, "shape": list(a.shape), "data": data}
    if view:
        out["view"] = view
    return out


class Random:
    """Standard normal inputs (complex: independent real and imaginary parts)
    from one seeded generator, so a generator's cases are reproducible."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def rnd(self, shape, dt):
        a = self.rng.standard_normal(shape)
        if dt[0] == 'c':
            a = a + 1j * self.rng.standard_normal(shape)
        return a.astype(DT[dt])

    def wellcond(self, shape, dt):
        """I*2 + 0.3 noise: well conditioned."""
        return (0.3 * self.rnd(shape, dt) + 2 * np.eye(shape[-1])).astype(DT[dt])
