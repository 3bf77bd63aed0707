"""cffi API-mode build of the FROST C library (compiled by `pip install`)."""
import os

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

ffibuilder = FFI()
with open(os.path.join(HERE, "frost.h")) as f:
    ffibuilder.cdef("int frost_dummy(void);")
ffibuilder.set_source(
    "cerro_torre.suites.frost._native",
    '#include "frost.h"',
    sources=[os.path.relpath(os.path.join(HERE, "frost.c"))],
    include_dirs=[HERE],
    libraries=["sodium"],
    extra_compile_args=["-O2", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
