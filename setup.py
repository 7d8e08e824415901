"""The compiled part of reserves: ``reserves.liabilities._bulk`` (see reserves/liabilities/_bulk.c), linked
against OpenSSL's libcrypto for SHA-256. Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "reserves.liabilities._bulk",
            sources=["reserves/liabilities/_bulk.c"],
            libraries=["crypto"],
            extra_compile_args=["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        )
    ]
)
