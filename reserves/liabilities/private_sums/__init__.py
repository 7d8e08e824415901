"""Format v2 (``docs/spec/FORMAT-2.md``): one Merkle tree per asset whose nodes carry a
Pedersen commitment to their sum instead of the sum, and range proofs on the siblings of a
user's path, so a proof shows its user her own balances and nothing about anyone else's.

    curve       the secp256k1 parts: generators, commitments, range proofs (libraries only)
    tree        the v2 context, node hashes and the per-asset trees
    files       ``reserves-snapshot/2`` and ``reserves-proof/2``
    store       the publisher's store: every node and a cache of range proofs
    checking    the user's numbered verification steps
"""
