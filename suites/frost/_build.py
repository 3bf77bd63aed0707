"""cffi API-mode build of the FROST C library (compiled by `pip install`).

The cdef is the public part of ``frost.h`` itself: preprocessor lines other
than integer ``#define FROST_*`` constants, and the ``extern "C"`` braces,
are dropped, so the binding cannot drift from the header.
"""
import os
import re

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))


def _cdef_from_header(path: str) -> str:
    keep = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if stripped.startswith("#"):
                if re.match(r"#define FROST_[A-Z_]+ \d+$", stripped):
                    keep.append(stripped)
                continue
            if stripped in ('extern "C" {', "}") and not line.startswith("} "):
                continue
            keep.append(line.rstrip("\n"))
    return "\n".join(keep)


ffibuilder = FFI()
ffibuilder.cdef(_cdef_from_header(os.path.join(HERE, "frost.h")))
ffibuilder.set_source(
    "cerro_torre.suites.frost._native",
    '#include "frost.h"',
    sources=[os.path.relpath(os.path.join(HERE, f)) for f in ("frost.c", "ed25519_vt.c")],
    include_dirs=[HERE],
    libraries=["sodium"],
    # -O3: the variable-time point arithmetic gains a quarter over -O2
    extra_compile_args=["-O3", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
