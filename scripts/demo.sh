#!/usr/bin/env bash
# The whole liabilities story on the bundled sample exchange (fixtures/demo/), offline.
# Run through `make demo`, which installs the project into .venv first.
set -euo pipefail
cd "$(dirname "$0")/.."
reserves() { .venv/bin/reserves "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

rm -rf out/demo && mkdir -p out/demo

step "1. The exchange publishes a snapshot of 3,000 accounts" \
  "reserves publish fixtures/demo/liabilities.csv --exchange 'Demo Exchange' --snapshot-id 2026-11-21 --cutoff 2026-11-21T00:00:00Z --decimals BTC=8,ETH=18,USDT=6 --out out/demo/snap"
reserves publish fixtures/demo/liabilities.csv --exchange "Demo Exchange" \
  --snapshot-id 2026-11-21 --cutoff 2026-11-21T00:00:00Z \
  --decimals BTC=8,ETH=18,USDT=6 --out out/demo/snap

step "2. It hands one user their inclusion proof" \
  "reserves proof out/demo/snap user-000042@example.com > out/demo/alice-proof.json"
reserves proof out/demo/snap user-000042@example.com > out/demo/alice-proof.json
echo "wrote out/demo/alice-proof.json ($(wc -c < out/demo/alice-proof.json) bytes)"

step "3. The user verifies it against the published snapshot.json" \
  "reserves verify out/demo/alice-proof.json --snapshot out/demo/snap/snapshot.json"
reserves verify out/demo/alice-proof.json --snapshot out/demo/snap/snapshot.json

step "4. A proof that shows the user a balance other than the one in the tree fails (exit 1)" \
  "reserves verify out/demo/tampered-proof.json --snapshot out/demo/snap/snapshot.json"
# The exchange shows the user a higher BTC balance than the one it put in the tree.
.venv/bin/python - <<'PY'
import json
proof = json.load(open("out/demo/alice-proof.json"))
proof["account"]["balances"]["BTC"] = "1000"
open("out/demo/tampered-proof.json", "w").write(json.dumps(proof, indent=2) + "\n")
PY
set +e; reserves verify out/demo/tampered-proof.json --snapshot out/demo/snap/snapshot.json; code=$?; set -e
echo "exit code: $code"
[ "$code" -eq 1 ]

step "5. The auditor rebuilds the whole tree from the liabilities and the secret" \
  "reserves audit out/demo/snap/snapshot.json --liabilities fixtures/demo/liabilities.csv --secret out/demo/snap/secret"
reserves audit out/demo/snap/snapshot.json --liabilities fixtures/demo/liabilities.csv \
  --secret out/demo/snap/secret

printf '\nDemo complete: files are in out/demo/.\n'
