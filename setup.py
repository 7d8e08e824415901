"""The compiled part of reserves: ``reserves.liabilities._bulk`` (see reserves/liabilities/_bulk.c), linked
against OpenSSL's libcrypto for SHA-256. Everything else is in pyproject.toml.

The extension is optional: on a machine without a C compiler (or OpenSSL's headers) the
install goes on without it and publish and audit run the pure-Python loops
(reserves/liabilities/loops.py), which give the same bytes, more slowly."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "reserves.liabilities._bulk",
            sources=["reserves/liabilities/_bulk.c"],
            libraries=["crypto"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
            optional=True,
        )
    ]
)
