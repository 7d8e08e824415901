"""Publish and audit past one machine: the same tree, built in stages by many workers.

The tree is a function of the accounts' slots, and node ``(l, i)`` depends only on the
leaves under it; so any builder that gives every account its exact slot and builds the
same aligned ``2^16``-slot chunks as ``reserves.liabilities.bulk_tree`` writes the same
bytes, however the accounts were split among workers. The stages, each a plain
function over byte ranges and files on storage every worker sees (``stages``):

    0  scan     the file cut at line feeds into blocks: whole-file checks (UTF-8, lone
                carriage returns), line numbers, quoting, the exact account count
    1  read     each block parsed by the strict reader, its ids hashed, its records
                written to one bucket per order-key range (fixed divisions of 2^64)
    2  sort     each bucket sorted by order key into a run; repeated ids are adjacent
    3  build    each partition builds the chunks whose first slot it holds (reading the
                head of the next runs for its last chunk) and writes them in place
    4  climb    the driver climbs the chunk tops to the root

A runner (``engine``) carries out each stage's tasks: in this process, or on a Dask
cluster (``reserves[dask]``). Errors in the input come back from the workers as data and
are raised on the driver with the single-machine reader's messages.
"""
