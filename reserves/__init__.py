"""reserves: proof-of-reserves toolkit (FORMAT v1).

The library never prints or exits: it returns results or raises an error of
``reserves.errors``. The ``reserves`` command lives in ``reserves.cli``.
"""

__version__ = "0.1.0"
