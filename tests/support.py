"""Shared test helpers: the bundled vectors, a CLI runner, and small snapshot builders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from typer.testing import CliRunner, Result

from reserves.cli import app
from reserves.encoding import parse_cutoff
from reserves.liabilities.proof_store import ProofStore
from reserves.liabilities.secret import SnapshotSecret
from reserves.liabilities.snapshot import SnapshotStatement
from reserves.publishing import SnapshotRequest, publish

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "fixtures" / "vectors"
VECTOR_NAMES = ("single", "small", "unicode")
DEMO_LIABILITIES = ROOT / "fixtures" / "demo" / "liabilities.csv"
DEMO_OPTIONS = (  # the README's publish options for the demo liabilities
    "--exchange",
    "Demo Exchange",
    "--snapshot-id",
    "2026-11-21",
    "--cutoff",
    "2026-11-21T00:00:00Z",
    "--decimals",
    "BTC=8,ETH=18,USDT=6",
)
SECRET = SnapshotSecret(bytes(range(32)))
"""A fixed secret, so the test snapshots are reproducible."""


SCHEMAS = ROOT / "docs" / "schemas"
SCHEMA_BASE = "https://reserves.example/schemas/"


def assert_valid(document: Any, schema: str) -> None:
    """``document`` validates against ``docs/schemas/<schema>`` (which may refer to the others)."""
    registry: Registry = Registry().with_resources(  # type: ignore[type-arg]
        (SCHEMA_BASE + p.name, Resource.from_contents(json.loads(p.read_text()))) for p in SCHEMAS.glob("*.json")
    )
    validator = Draft202012Validator(json.loads((SCHEMAS / schema).read_text()), registry=registry)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def first_failure(result: Result) -> tuple[int, str]:
    """The step and detail of the first FAIL of a ``verify --json`` run that exited 1."""
    assert result.exit_code == 1, result.stdout + result.stderr
    check = next(c for c in json.loads(result.stdout)["checks"] if c["status"] == "FAIL")
    return check["step"], check["detail"]


def flat(text: str) -> str:
    """Terminal text with the boxes of usage errors taken away and white space folded."""
    for frame in "│╭╮╰╯─":
        text = text.replace(frame, " ")
    return " ".join(text.split())


MALICIOUS = ROOT / "fixtures" / "malicious"


@dataclass(frozen=True)
class MaliciousCase:
    """A malicious proof of ``fixtures/malicious/`` and the outcome it must get."""

    proof: Path
    snapshot: Path
    exit_code: int
    message: str


def malicious_cases() -> list[MaliciousCase]:
    """Every case of ``fixtures/malicious/cases.json``, the one way tests load them."""
    cases = json.loads((MALICIOUS / "cases.json").read_text())
    return [
        MaliciousCase(MALICIOUS / name, ROOT / case["snapshot"], case["exit"], case["message"])
        for name, case in cases.items()
    ]


def cli(*args: str | Path) -> Result:
    """Run the ``reserves`` command in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def vector(name: str) -> Path:
    return VECTORS / name


def vector_request(name: str) -> SnapshotRequest:
    snapshot = json.loads((vector(name) / "snapshot.json").read_text())
    return SnapshotRequest(
        exchange=snapshot["exchange"],
        snapshot_id=snapshot["snapshot_id"],
        cutoff=parse_cutoff(snapshot["cutoff"], where="test"),
        decimals={a["symbol"]: a["decimals"] for a in snapshot["assets"]},
        height=snapshot["height"],
    )


@dataclass
class Published:
    """A snapshot published into a temporary directory by a test."""

    directory: Path
    liabilities: Path
    statement: SnapshotStatement

    @property
    def snapshot_json(self) -> Path:
        return self.directory / "public" / "snapshot.json"

    @property
    def secret(self) -> Path:
        return self.directory / "private" / "secret"

    def proof(self, account_id: str) -> dict[str, Any]:
        return ProofStore.open(self.directory).proof(account_id).to_json()


def publish_csv(
    tmp_path: Path,
    csv_text: str,
    decimals: dict[str, int] | None = None,
    *,
    height: int | None = None,
    secret: SnapshotSecret = SECRET,
    name: str = "snap",
    snapshot_id: str = "test-1",
    exchange: str = "Test Exchange",
) -> Published:
    liabilities = tmp_path / f"{name}.csv"
    liabilities.write_text(csv_text, encoding="utf-8")
    request = SnapshotRequest(
        exchange=exchange,
        snapshot_id=snapshot_id,
        cutoff=1_790_000_000,
        decimals=decimals or {"BTC": 8, "ETH": 18},
        height=height,
    )
    directory = tmp_path / name
    statement = publish(liabilities, request, directory, secret=secret)
    return Published(directory, liabilities, statement)


FOUR_ACCOUNTS = "account,BTC,ETH\nalice,1.5,0\nbob,2,3.25\ncarol,0,0\ndave,0.00000001,7\n"
FIVE_ACCOUNTS = FOUR_ACCOUNTS + "erin,4,0.5\n"


@pytest.fixture
def four(tmp_path: Path) -> Published:
    return publish_csv(tmp_path, FOUR_ACCOUNTS)


@pytest.fixture
def five(tmp_path: Path) -> Published:
    return publish_csv(tmp_path, FIVE_ACCOUNTS)


def write_json(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path
