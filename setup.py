"""The compiled parts of reserves, linked against OpenSSL's libcrypto for SHA-256:
``reserves.liabilities._bulk`` (reserves/liabilities/_bulk.c, format v1's tree loops) and
``reserves.liabilities._private`` (reserves/liabilities/_private.c, format v2's, which calls
the libsecp256k1 that coincurve (or embit) loaded, by address). Everything else is in pyproject.toml.

Both extensions are optional: on a machine without a C compiler (or OpenSSL's headers) the
install goes on without them and publish and audit run the pure-Python loops
(reserves/liabilities/loops.py, reserves/liabilities/private_sums/tree.py), which give the
same bytes, more slowly."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "reserves.liabilities._bulk",
            sources=["reserves/liabilities/_bulk.c"],
            depends=["reserves/liabilities/_hashing.h"],
            libraries=["crypto"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
        Extension(
            "reserves.liabilities._private",
            sources=["reserves/liabilities/_private.c"],
            depends=["reserves/liabilities/_hashing.h"],
            libraries=["crypto"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        ),
    ]
)
