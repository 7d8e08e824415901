"""Format v2 (``docs/spec/FORMAT-2.md``): one Merkle tree per asset whose nodes carry a
Pedersen commitment to their sum instead of the sum, and range proofs on the siblings of a
user's path, so a proof shows its user her own balances and nothing about anyone else's.

    curve       the secp256k1 parts: generators, commitments, range proofs (libraries only)
    tree        the v2 context, node hashes and the per-asset trees
    files       ``reserves-snapshot/2`` and ``reserves-proof/2``
    store       the publisher's store: every node and a cache of range proofs
    checking    the user's numbered verification steps
    building    the trees from the liabilities (publish and audit)
    auditing    the auditor's rebuild and comparison

Only this package's ``__init__`` loads without coincurve and embit: the format names, so
a verify-only install tells a v2 file from a v1 file and says what it needs.
"""

SNAPSHOT_FORMAT = "reserves-snapshot/2"
PROOF_FORMAT = "reserves-proof/2"
