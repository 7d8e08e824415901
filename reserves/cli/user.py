"""The command a user runs: ``verify`` a proof of their balances against the root the
exchange published (our format, or another exchange's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer

from reserves.cli.app import app
from reserves.cli.output import (
    EXIT_CODES_HELP,
    JsonOption,
    amounts_table,
    cell,
    errors_to_exit_codes,
    new_table,
    print_checks,
    print_json,
    register_secrets,
    say,
    say_outcome,
    stdout,
)
from reserves.encoding import parse_hex32
from reserves.errors import InputError
from reserves.formats import FormatVerification
from reserves.formats.registry import (
    ASSET_LIST_FILES,
    FORMAT_NAMES,
    FRACTIONAL_NUMBERS,
    NATIVE,
    NEEDS_CREDENTIAL,
    ROOT_HEX_DIGITS,
    SIGNED_NUMBERS,
    TREE_ANCHORED,
    AnchorProblem,
    Recognised,
    anchor_problem,
    recognise,
    verify_other,
)
from reserves.liabilities.private_sums import PROOF_FORMAT
from reserves.liabilities.proof import parse_proof
from reserves.liabilities.snapshot import SnapshotStatement, fetch_json, fetch_snapshot, load_snapshot
from reserves.report.documents import format_document, verification_document
from reserves.strict_json import MAX_PROOF_BYTES, JsonValue, Numbers, load_json
from reserves.verify import Anchor, ProofVerification, verify_proof

CredentialOption = Annotated[
    str | None,
    typer.Option(
        envvar="RESERVES_CREDENTIAL",
        help="SwissBorg: your proof-of-liabilities credential (or set RESERVES_CREDENTIAL); never printed.",
    ),
]

SnapshotOption = Annotated[
    str | None,
    typer.Option(
        help="The snapshot.json the exchange published: a file, or its https:// address (SwissBorg: auditRoots.json; "
        "HTX and Gate zk: the asset list, config.json or cex_config.json).",
    ),
]

NO_ANCHOR = (
    "no anchor: a proof only means something against the root the exchange published. Give --snapshot FILE "
    "(the snapshot.json the exchange published, fetched separately) or --root HEX (a root hash published "
    "elsewhere){tree}; or --no-anchor to check the file's consistency alone"
)


@app.command("verify", epilog=EXIT_CODES_HELP, rich_help_panel="User")
def verify_command(
    proof_file: Annotated[
        Path,
        typer.Argument(help="Your proof file: reserves-proof/1 or /2, or another exchange's (recognised by content)."),
    ],
    snapshot: SnapshotOption = None,
    root: Annotated[
        str | None, typer.Option(help="Or the published root hash (64 hex characters; 0x and upper case accepted).")
    ] = None,
    no_anchor: Annotated[
        bool,
        typer.Option(
            "--no-anchor", help="Check the file alone, against its own root: never a PASS, at best CONSISTENT."
        ),
    ] = False,
    proof_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            click_type=click.Choice(FORMAT_NAMES),
            help="Force the format (default: recognised by its content).",
        ),
    ] = None,
    tree: Annotated[Path | None, typer.Option(help="OKX v2: the full liabilities tree file OKX published.")] = None,
    credential: CredentialOption = None,
    as_json: JsonOption = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings and skipped checks too (and on --no-anchor).")
    ] = False,
) -> None:
    """Check that your balances are counted in the root the exchange published.

    FORMAT §6.3's steps (FORMAT-2 §7 for a reserves-proof/2 file), or another exchange's
    format (OKX, Bybit, MEXC, SwissBorg, CoinEx, Bitget, Bitunix, HTX and Gate zk-Merkle).

    Example: reserves verify alice-proof.json --snapshot snapshot.json"""
    with errors_to_exit_codes(as_json=as_json):
        document, found = _load(proof_file, proof_format)
        problem = anchor_problem(
            found.name, snapshot=snapshot is not None, root=root is not None, tree=tree is not None, alone=no_anchor
        )
        if problem is not None:
            raise InputError(anchor_message(problem, found.name))
        how = "forced by --format" if found.forced else "recognised by its content"
        if found.name == NATIVE and _is_private(document.value):
            _report_format(_verify_private(document, snapshot, root), how, as_json, strict)
        if found.name != NATIVE:
            other = _verify_other(found.name, document.value, proof_file, root, tree, _local(snapshot), credential)
            _report_format(other, how, as_json, strict)
        anchor = Anchor(_published_snapshot(snapshot), parse_root(root) if root is not None else None)
        result = verify_proof(parse_proof(document), anchor)
        verdict = result.verdict(strict=strict)
        if as_json:
            print_json(verification_document(result, verdict))
        else:
            say(f"Format: reserves-proof/1 ({how})")
            print_verification(result, strict)
        raise typer.Exit(verdict.exit_code)


def _is_private(document: Any) -> bool:
    """A reserves-proof/2 file (format v2, private sums)."""
    return isinstance(document, dict) and document.get("format") == PROOF_FORMAT


def _verify_private(document: JsonValue, snapshot: str | None, root: str | None) -> FormatVerification:
    """FORMAT-2 §7 against the published v2 snapshot.json or snapshot root."""
    from reserves.liabilities.private_sums.checking import verify_private_proof
    from reserves.liabilities.private_sums.files import parse_private_proof, parse_statement

    published = None
    if snapshot is not None:
        is_url = snapshot.startswith(("https://", "http://"))
        published = parse_statement(fetch_json(snapshot) if is_url else load_json(Path(snapshot))).commitment
    expected = parse_root(root) if root is not None else None
    return verify_private_proof(parse_private_proof(document), published=published, root=expected)


def _published_snapshot(location: str | None) -> SnapshotStatement | None:
    """The snapshot.json given to ``--snapshot``: a local file or an ``https://`` address."""
    if location is None:
        return None
    if location.startswith(("https://", "http://")):
        return fetch_snapshot(location)
    return load_snapshot(Path(location))


def _local(location: str | None) -> Path | None:
    """Another exchange's published file: local only."""
    if location is not None and location.startswith(("https://", "http://")):
        raise InputError("an address is accepted for a snapshot.json; download the exchange's file and give its path")
    return Path(location) if location is not None else None


def _load(proof_file: Path, forced: str | None) -> tuple[JsonValue, Recognised]:
    """The proof file, parsed, and its format; numbers only the format has are let through."""
    numbers = Numbers()
    document = load_json(proof_file, max_bytes=MAX_PROOF_BYTES, lenient=numbers)
    found = recognise(document.value, str(proof_file), forced)
    numbers.refuse(str(proof_file), negatives=found.name in SIGNED_NUMBERS, fractions=found.name in FRACTIONAL_NUMBERS)
    return document, found


def _verify_other(
    name: str,
    document: Any,
    path: Path,
    root: str | None,
    tree: Path | None,
    published: Path | None,
    credential: str | None,
) -> FormatVerification:
    if name in NEEDS_CREDENTIAL and not credential:
        raise InputError(f"a {name} proof is checked with your credential: pass --credential")
    register_secrets([credential] if credential else [])
    expected = parse_root(root, ROOT_HEX_DIGITS.get(name, 64)).hex() if root is not None else None
    return verify_other(name, document, str(path), root=expected, tree=tree, published=published, credential=credential)


def anchor_message(problem: AnchorProblem, name: str) -> str:
    """What is wrong with the anchors, in the words of the options."""
    if problem is AnchorProblem.MISSING:
        tree = " or, for OKX v2, --tree FILE" if name in TREE_ANCHORED else ""
        return NO_ANCHOR.format(tree=tree)
    return {
        AnchorProblem.TWO_ANCHORS: "give --snapshot or --root, not both",
        AnchorProblem.NOT_ALONE: "--no-anchor checks the file alone: give it without --snapshot, --root or --tree",
        AnchorProblem.SNAPSHOT_FOR_OTHER_FORMAT: f"--snapshot anchors reserves-proof/1 files; for {name} give --root",
        AnchorProblem.AUDIT_ROOTS_MISSING: f"a {name} user file is checked against the audit roots the exchange "
        "publishes: pass --snapshot auditRoots.json",
        AnchorProblem.TREE_FOR_OTHER_FORMAT: "--tree goes with OKX v2 user files",
        AnchorProblem.TREE_MISSING: "an OKX v2 user file is checked against the full tree: pass --tree FILE",
        AnchorProblem.ASSET_LIST_MISSING: f"a {name} user file is checked with the asset list the exchange "
        f"publishes: pass --snapshot {ASSET_LIST_FILES.get(name, '')} (and --root HEX, the published root)",
    }[problem]


def parse_root(text: str, digits: int = 64) -> bytes:
    """A root hash as users copy it: ``digits`` hex digits, with or without ``0x``, in either case."""
    spelled = (text[2:] if text[:2] in ("0x", "0X") else text).lower()
    if digits != 64:
        if len(spelled) != digits or any(c not in "0123456789abcdef" for c in spelled):
            raise InputError(f"root hash must be {digits} hex characters, found {text!r}", where="--root")
        return bytes.fromhex(spelled)
    return parse_hex32(spelled, what="root hash", where="--root")


def _report_format(result: FormatVerification, how: str, as_json: bool, strict: bool) -> NoReturn:
    verdict = result.verdict(strict=strict)
    if as_json:
        print_json(format_document(result, verdict))
    else:
        print_format_verification(result, how, strict)
    raise typer.Exit(verdict.exit_code)


def print_format_verification(result: FormatVerification, how: str, strict: bool) -> None:
    """A reserves-proof/2 file's or another exchange's check: balances, steps, outcome."""
    say(f"Format: {result.format_name} ({how})")
    table = new_table("Balances", ["asset", "your balance", "exchange total"], right=["your balance", "exchange total"])
    for asset, amount in result.balances.items():
        table.add_row(cell(asset), cell(amount), cell(result.totals.get(asset, "—")))
    stdout.print(table)
    print_checks(result.checks)
    say_outcome(result.verdict(strict=strict))


def print_verification(result: ProofVerification, strict: bool) -> None:
    proof = result.proof
    context = proof.snapshot.context
    say(
        f"Account {proof.account.id!r} in snapshot {context.snapshot_id!r} of {context.exchange!r} "
        f"(cut-off {context.cutoff_text})"
    )
    stdout.print(
        amounts_table(
            "Balances",
            context.assets,
            {"your balance": proof.account.balances, "snapshot total": proof.snapshot.root.sums},
        )
    )
    print_checks(result.checks)
    say_outcome(result.verdict(strict=strict))


@app.command("web-verifier", epilog=EXIT_CODES_HELP, rich_help_panel="User")
def web_verifier_command(
    out: Annotated[Path, typer.Argument(help="The HTML file to write (replaced if it exists).")],
) -> None:
    """Write the verifier page: one HTML file that checks a proof in any browser, offline.

    The page checks reserves-proof/1 files against the published snapshot.json or root
    hash, and every other exchange's format 'reserves verify' checks, with the same
    numbered steps; it loads nothing from the network. Give it to users to save and open.

    Example: reserves web-verifier check-my-proof.html"""
    with errors_to_exit_codes(as_json=False):
        from reserves.report.web_verifier import write_page

        write_page(out)
        say(f"Wrote {out}: open it in a browser, then drop your proof and the exchange's snapshot.json on it.")
