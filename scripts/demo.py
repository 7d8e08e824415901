"""`make demo`: the whole proof-of-reserves story, offline, on one machine.

1. Two chains come up: an in-process Ethereum chain (web3's EthereumTesterProvider) with
   an ERC-20 "USDT", and a local Bitcoin regtest chain behind a loopback Esplora server.
   The sample exchange's wallets are funded, and the blocks are pinned.
2. The exchange publishes a snapshot of its 3,000 accounts (fixtures/demo/) with its
   wallets and the pinned blocks.
3. One user checks their proof; a tampered proof fails.
4. Funds move after the pinned blocks; the auditor rebuilds the liabilities, reads every
   wallet at the pinned blocks and writes out/demo/report.html.
5. A week later the exchange is short of USDT: the audit says so (out/demo/report-short.html).
6. The same book published with private sums (format v2, docs/spec/FORMAT-2.md): a user's
   proof carries commitments and range proofs instead of other customers' sums; she
   verifies it and learns nothing about anyone else; the auditor rebuilds every tree
   (out/demo/report-v2.html).

The chains live in this process, so the demo drives the library directly; each step
prints what the matching `reserves` command prints.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from pathlib import Path

from eth_account import Account
from rich.console import Console
from web3 import EthereumTesterProvider, Web3

from reserves.audit import audit_snapshot
from reserves.cli import print_audit, print_format_verification, print_statement, print_verification
from reserves.control.ownership import sign_snapshot
from reserves.control.signatures import bitcoin_public_key
from reserves.encoding import format_amount, parse_cutoff
from reserves.liabilities.csv_file import read_liabilities
from reserves.liabilities.private_sums.checking import verify_private_proof
from reserves.liabilities.private_sums.files import PrivateStatement, parse_private_proof
from reserves.liabilities.private_sums.store import PrivateStore
from reserves.liabilities.private_sums.tree import PrivateContext
from reserves.liabilities.proof import InclusionProof, parse_proof_text
from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement
from reserves.onchain.reserve_sections import BitcoinChain, EvmChain, Keyholder, ReserveSections, Token, Wallet
from reserves.onchain.sources.connect import connect_sources
from reserves.publishing import SnapshotRequest, publish, rewrite_statement
from reserves.report.html import render_html, write_report
from reserves.report.inputs import AuditInputs
from reserves.strict_json import parse_json
from reserves.testing.evm_loopback import EvmLoopbackNode
from reserves.testing.regtest import EsploraServer, RegtestChain, key, multisig_p2wsh, p2wpkh_address
from reserves.verify import Anchor, verify_proof

ROOT = Path(__file__).resolve().parent.parent
LIABILITIES = ROOT / "fixtures" / "demo" / "liabilities.csv"
TOKEN = json.loads((ROOT / "fixtures" / "contracts" / "DemoToken.json").read_text())
OUT = ROOT / "out" / "demo"
ETHER, USDT, BTC = 10**18, 10**6, 10**8
DECIMALS = {"BTC": 8, "ETH": 18, "USDT": 6}
PRIVATE_DECIMALS = {"BTC": 8, "ETH": 9, "USDT": 6}
PRIVATE_LIABILITIES = OUT / "liabilities-v2.csv"
HOLDERS_MULTIPLE = 100
"""v2's holder counts are rounded up to a multiple of this with dummy holders (FORMAT-2 §5.5)."""
Statement = SnapshotStatement | PrivateStatement
ETH_COLD_KEY, ETH_HOT_KEY = b"\x11" * 32, b"\x22" * 32
VAULT_SEEDS = (10, 11, 12)

console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def step(title: str, command: str | None = None) -> None:
    console.print(f"\n[bold]== {title}[/]")
    if command:
        console.print(f"[dim]$ {command}[/]", markup=True)


class Ethereum:
    """The in-process chain, the exchange's two EVM wallets and its USDT contract."""

    def __init__(self) -> None:
        self.web3 = Web3(EthereumTesterProvider())
        self.funders = self.web3.eth.accounts
        self.cold = Account.from_key(ETH_COLD_KEY).address
        self.hot = Account.from_key(ETH_HOT_KEY).address
        factory = self.web3.eth.contract(abi=TOKEN["abi"], bytecode=TOKEN["bytecode"])
        receipt = self.wait(
            factory.constructor("Demo Tether", "USDT", 6, 10**9 * USDT).transact({"from": self.funders[0]})
        )
        self.token = self.web3.eth.contract(address=receipt["contractAddress"], abi=TOKEN["abi"])

    def wait(self, tx: bytes) -> dict:  # type: ignore[type-arg]
        return dict(self.web3.eth.wait_for_transaction_receipt(tx))

    def send_ether(self, sender: int, to: str, amount: int) -> None:
        self.wait(self.web3.eth.send_transaction({"from": self.funders[sender], "to": to, "value": amount}))

    def send_usdt(self, to: str, amount: int) -> None:
        self.wait(self.token.functions.transfer(to, amount).transact({"from": self.funders[0]}))

    def take_usdt_from_cold(self, amount: int) -> None:
        """The exchange moves USDT out of its cold wallet (it holds that wallet's key)."""
        account = Account.from_key(ETH_COLD_KEY)
        self.send_ether(9, self.cold, ETHER)  # gas money
        tx = self.token.functions.transfer(self.funders[0], amount).build_transaction(
            {"from": self.cold, "nonce": self.web3.eth.get_transaction_count(self.cold), "gas": 100_000}
        )
        signed = account.sign_transaction(tx)
        self.wait(self.web3.eth.send_raw_transaction(signed.raw_transaction))

    def pin(self) -> EvmChain:
        block = self.web3.eth.get_block("latest")
        return EvmChain("ethereum", self.web3.eth.chain_id, "ETH", block["number"], bytes(block["hash"]))


class Bitcoin:
    """The regtest chain with the exchange's hot wallet and a 2-of-3 multisig vault."""

    def __init__(self) -> None:
        self.chain = RegtestChain()
        self.hot_key = key(1)
        self.chain.register(self.hot_key)
        self.hot = p2wpkh_address(self.hot_key)
        self.vault, self.vault_script = multisig_p2wsh(2, [key(seed) for seed in VAULT_SEEDS])
        for _ in range(1100):  # 50 BTC a block; coinbase coins spend after 100 blocks
            self.chain.mine()

    def pay(self, address: str, amount: int) -> None:
        chunk = 2_000 * BTC  # 40 coinbase coins a transaction
        while amount > 0:
            self.chain.mine([self.chain.pay(self.chain.miner, [(address, min(chunk, amount))])])
            amount -= chunk

    def pin(self) -> BitcoinChain:
        tip = self.chain.tip
        return BitcoinChain("bitcoin", "regtest", "BTC", tip.height, bytes.fromhex(tip.hash))


def reserves(ethereum: Ethereum, evm: EvmChain, bitcoin: Bitcoin, btc: BitcoinChain) -> ReserveSections:
    token = Token("ethereum", "USDT", ethereum.token.address, 6)
    vault_script = bitcoin.vault_script.data
    wallets = (
        Wallet("ethereum", ethereum.cold, ethereum.cold, "cold", "eth-cold", ("ETH", "USDT")),
        Wallet("ethereum", ethereum.hot, ethereum.hot, "hot", "eth-hot", ("ETH",)),
        Wallet("bitcoin", bitcoin.vault, bitcoin.vault, "cold", "btc-vault-2of3", ("BTC",), None, vault_script),
        Wallet("bitcoin", bitcoin.hot, bitcoin.hot, "hot", "btc-hot", ("BTC",)),
    )
    # The ETH cold wallet has one key, held by one person: the 2020 failure, which custody flags.
    custodians = [
        Keyholder(f"custodian-{n}", (bitcoin_public_key(key(seed).secret).hex(),))
        for n, seed in zip("abc", VAULT_SEEDS, strict=True)
    ]
    keyholders = (Keyholder("cfo", (ethereum.cold,)), *custodians)
    return ReserveSections({"ethereum": evm, "bitcoin": btc}, (token,), wallets, keyholders)


def publish_snapshot(snapshot_id: str, sections: ReserveSections, out: Path, *, private: bool = False) -> Statement:
    """Publish, then sign every wallet's canonical ownership message (the root is known only now)."""
    request = SnapshotRequest(
        "Demo Exchange",
        snapshot_id,
        parse_cutoff(f"{snapshot_id[:10]}T00:00:00Z", where="demo"),
        PRIVATE_DECIMALS if private else DECIMALS,
        reserves=sections,
        private_sums=private,
        holders_multiple=HOLDERS_MULTIPLE if private else 1,
    )
    liabilities = PRIVATE_LIABILITIES if private else LIABILITIES
    statement: Statement = publish(liabilities, request, out, secret=SnapshotSecret.generate())
    keys = {
        "eth-cold": [ETH_COLD_KEY],
        "eth-hot": [ETH_HOT_KEY],
        "btc-vault-2of3": [bytes(key(10).secret), bytes(key(12).secret)],
        "btc-hot": [bytes(key(1).secret)],
    }
    signed = sign_snapshot(statement, keys)
    rewrite_statement(out / "public" / "snapshot.json", signed)
    return signed


def audit(statement: Statement, out: Path, node: EvmLoopbackNode, server: EsploraServer, report: Path) -> None:
    sources = connect_sources(statement.reserves.chains, {"ethereum": node.url}, {"bitcoin": server.url})
    liabilities = LIABILITIES if isinstance(statement, SnapshotStatement) else PRIVATE_LIABILITIES
    result = audit_snapshot(statement, liabilities, SnapshotSecret.load(out / "private" / "secret"), sources)
    verdict = result.verdict()
    print_audit(result, verdict)
    inputs = AuditInputs.describe(out / "public" / "snapshot.json", liabilities, sources)
    write_report(report, render_html(result, verdict, inputs))
    console.print(f"Report written to {report.relative_to(ROOT)}")


def write_private_liabilities() -> None:
    """The demo's book with ETH in gwei (9 decimals), each balance rounded up: format v2's
    range proofs cover totals below 2^64 smallest units, and 1.4 million ETH in wei does not."""
    liabilities = read_liabilities(LIABILITIES, DECIMALS)
    with PRIVATE_LIABILITIES.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["account", "BTC", "ETH", "USDT"])
        for account_id, (btc, wei, usdt) in zip(liabilities.ids, liabilities.balances, strict=True):
            gwei = -(-wei // 10**9)
            writer.writerow([account_id, format_amount(btc, 8), format_amount(gwei, 9), format_amount(usdt, 6)])


def private_sums(
    proof: InclusionProof, sections: ReserveSections, node: EvmLoopbackNode, server: EsploraServer
) -> None:
    """Step 6: format v2 on the same book and wallets."""
    step(
        "6. The same book with private sums (format v2): ETH in gwei, each balance rounded up",
        "reserves publish out/demo/liabilities-v2.csv --exchange 'Demo Exchange' --snapshot-id 2026-11-21-private "
        "--cutoff 2026-11-21T00:00:00Z --decimals BTC=8,ETH=9,USDT=6 --private-sums --round-holders 100 "
        "--reserves reserves.json --out out/demo/snap-v2",
    )
    write_private_liabilities()
    snap = OUT / "snap-v2"
    statement = publish_snapshot("2026-11-21-private", sections, snap, private=True)
    print_statement(statement, snap.relative_to(ROOT))
    context = statement.context
    assert isinstance(context, PrivateContext)
    counts = ", ".join(f"{a.symbol} {s.holders:,}" for a, s in zip(context.assets, context.shapes, strict=True))
    console.print(
        f"Holder counts are rounded up to a multiple of {HOLDERS_MULTIPLE} with dummy holders of balance 0 "
        f"({counts}): the snapshot does not show exactly how many customers hold each asset."
    )
    neighbour = proof.path[0].sums
    shown = ", ".join(
        f"{a.symbol} {format_amount(v, a.decimals)}"
        for a, v in zip(proof.snapshot.context.assets, neighbour, strict=True)
    )
    console.print(
        f"In v1 (step 3) the same user's proof showed one other customer's exact balances ({shown}) and the "
        f"sums of {len(proof.path) - 1} ever larger groups."
    )
    step(
        "   The user checks her v2 proof",
        "reserves proof out/demo/snap-v2 user-000042@example.com > out/demo/alice-proof-v2.json",
    )
    private = PrivateStore.open(snap).proof("user-000042@example.com")
    (OUT / "alice-proof-v2.json").write_text(private.to_text())
    siblings = sum(len(h.path) for h in private.holdings)
    console.print(
        f"Her proof ({len(private.to_text()) // 1000} kB) holds her own balances and, for each of {siblings} siblings, "
        "a commitment and a range proof showing it is not negative: no amount of anyone else's."
    )
    console.print(
        "[dim]$ reserves verify out/demo/alice-proof-v2.json --snapshot out/demo/snap-v2/public/snapshot.json[/]"
    )
    print_format_verification(
        verify_private_proof(private, published=statement.commitment), "recognised by its content", False
    )
    step("   ... and a v2 proof that shows her a higher BTC balance than the tree holds fails")
    tampered = private.to_json()
    tampered["holdings"][0]["balance"] = "1000"
    forged = parse_private_proof(parse_json(json.dumps(tampered).encode(), source="tampered-proof-v2.json"))
    print_format_verification(
        verify_private_proof(forged, published=statement.commitment), "recognised by its content", False
    )
    step("   The auditor rebuilds every asset's tree and reads the same pinned blocks")
    audit(statement, snap, node, server, OUT / "report-v2.html")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)

    step("1. Chains: an in-process Ethereum chain with USDT, and a local Bitcoin regtest chain")
    ethereum, bitcoin = Ethereum(), Bitcoin()
    ethereum.send_ether(1, ethereum.cold, 700_000 * ETHER)
    ethereum.send_ether(2, ethereum.cold, 700_000 * ETHER)
    ethereum.send_ether(3, ethereum.hot, 50_000 * ETHER)
    ethereum.send_usdt(ethereum.cold, 1_500_000 * USDT)
    bitcoin.pay(bitcoin.vault, 40_000 * BTC)
    bitcoin.pay(bitcoin.hot, 6_000 * BTC)
    evm, btc = ethereum.pin(), bitcoin.pin()
    console.print(f"ethereum pinned at block {evm.block}, bitcoin (regtest) at height {btc.block}")

    step(
        "2. The exchange publishes its snapshot (3,000 accounts, 4 wallets, pinned blocks) and signs ownership",
        "reserves publish fixtures/demo/liabilities.csv --exchange 'Demo Exchange' --snapshot-id 2026-11-21 "
        "--cutoff 2026-11-21T00:00:00Z --decimals BTC=8,ETH=18,USDT=6 --reserves reserves.json --out out/demo/snap"
        " && reserves sign out/demo/snap/public/snapshot.json --keys keys.json",
    )
    snap = OUT / "snap"
    statement = publish_snapshot("2026-11-21", reserves(ethereum, evm, bitcoin, btc), snap)
    print_statement(statement, snap.relative_to(ROOT))

    step(
        "3. A user checks their proof",
        "reserves proof out/demo/snap user-000042@example.com > out/demo/alice-proof.json",
    )
    proof = ProofStore.open(snap).proof("user-000042@example.com")
    (OUT / "alice-proof.json").write_text(proof.to_text())
    console.print("[dim]$ reserves verify out/demo/alice-proof.json --snapshot out/demo/snap/public/snapshot.json[/]")
    print_verification(verify_proof(proof, Anchor(snapshot=statement)), strict=False)
    step("   ... and a proof that shows the user a higher BTC balance than the tree holds fails")
    tampered = proof.to_json()
    tampered["account"]["balances"]["BTC"] = "1000"
    forged = parse_proof_text(json.dumps(tampered).encode(), source="tampered-proof.json")
    print_verification(verify_proof(forged, Anchor(snapshot=statement)), strict=False)

    with EsploraServer(bitcoin.chain) as server, EvmLoopbackNode(ethereum.web3) as node:
        step("4. Funds move after the pinned blocks; the auditor reads the pinned blocks only")
        ethereum.send_ether(4, ethereum.cold, 900_000 * ETHER)  # arrives too late to count
        bitcoin.pay(bitcoin.hot, 10_000 * BTC)
        console.print(
            "[dim]$ reserves audit out/demo/snap/public/snapshot.json --liabilities fixtures/demo/liabilities.csv "
            "--secret out/demo/snap/private/secret --rpc ethereum=URL --esplora bitcoin=URL "
            "--report out/demo/report.html[/]"
        )
        audit(statement, snap, node, server, OUT / "report.html")

        step("5. A week later the exchange has moved 400,000 USDT out of its cold wallet before the snapshot")
        ethereum.take_usdt_from_cold(400_000 * USDT)
        short = publish_snapshot(
            "2026-11-28", reserves(ethereum, ethereum.pin(), bitcoin, bitcoin.pin()), OUT / "snap-short"
        )
        audit(short, OUT / "snap-short", node, server, OUT / "report-short.html")

        private_sums(proof, reserves(ethereum, evm, bitcoin, btc), node, server)

    console.print(
        "\n[bold]Demo complete.[/] Open out/demo/report.html, out/demo/report-short.html and out/demo/report-v2.html "
        "in a browser."
    )


if __name__ == "__main__":
    main()
