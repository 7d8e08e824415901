"""The staged build (reserves.liabilities.cluster) in this process: the same bytes as the
single-machine build for every size and every way of cutting the work, and the same
error, word for word, for every kind of bad input wherever it lies in the file."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reserves.errors import InputError
from reserves.liabilities.cluster.engine import Cluster, InProcess, Sizes
from reserves.liabilities.secret import SnapshotSecret
from reserves.publishing import SnapshotRequest, publish

SECRET = SnapshotSecret(bytes(range(32)))
REQUEST = SnapshotRequest("Staged Exchange", "2026-12-03", 1_764_720_000, {"BTC": 8, "ETH": 18})
HEADER = "account,BTC,ETH\n"


def rows(count: int, seed: int = 7) -> list[str]:
    draw = random.Random(seed)
    return [
        f"user-{i:06d},{draw.randint(0, 10**6)}.{draw.randint(0, 10**8 - 1):08d},{draw.randint(0, 9)}\n"
        for i in range(count)
    ]


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def store_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def staged(tmp_path: Path, block_bytes: int, partition_bytes: int) -> Cluster:
    return Cluster(InProcess(), tmp_path / "work", Sizes(block_bytes, partition_bytes))


@pytest.mark.parametrize(
    ("accounts", "block_bytes", "partition_bytes"),
    [
        (1, 64, 64),  # one account
        (2, 1 << 20, 1 << 20),
        (5, 40, 100),  # a block per line, a partition per account or so
        (1000, 3000, 5000),  # many blocks, many partitions
        (65_535, 1 << 20, 1 << 20),  # one below a chunk; partitions smaller than a chunk
        (65_536, 1 << 19, 3 << 20),  # exactly one chunk
        (65_537, 4 << 20, 4 << 20),  # a chunk and one: one partition
        (70_001, 1 << 20, 200_000),  # a non-power of two; 37 partitions, most owning no chunk
    ],
)
def test_the_staged_build_writes_the_single_machine_bytes(
    tmp_path: Path, accounts: int, block_bytes: int, partition_bytes: int
) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(accounts)))
    publish(liabilities, REQUEST, tmp_path / "one", secret=SECRET)
    publish(
        liabilities, REQUEST, tmp_path / "staged", secret=SECRET, cluster=staged(tmp_path, block_bytes, partition_bytes)
    )
    one, many = store_files(tmp_path / "one"), store_files(tmp_path / "staged")
    assert sorted(many) == sorted(one)
    assert [name for name in one if one[name] != many[name]] == []
    assert list((tmp_path / "work").iterdir()) == []  # the job folder (secret, balances) is gone


def test_a_quoted_line_feed_across_a_block_boundary_is_one_record(tmp_path: Path) -> None:
    body = rows(40)
    body[20] = '"two\nlines",1.5,2\n'
    body[21] = '"quoted, comma",0.00000001,0\n'
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(body))
    publish(liabilities, REQUEST, tmp_path / "one", secret=SECRET)
    publish(liabilities, REQUEST, tmp_path / "staged", secret=SECRET, cluster=staged(tmp_path, 50, 300))
    assert store_files(tmp_path / "staged") == store_files(tmp_path / "one")


def test_a_tree_taller_than_needed_is_the_same_tree(tmp_path: Path) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(300)))
    taller = SnapshotRequest(REQUEST.exchange, REQUEST.snapshot_id, REQUEST.cutoff, REQUEST.decimals, height=20)
    publish(liabilities, taller, tmp_path / "one", secret=SECRET)
    publish(liabilities, taller, tmp_path / "staged", secret=SECRET, cluster=staged(tmp_path, 500, 2000))
    assert store_files(tmp_path / "staged") == store_files(tmp_path / "one")


def broken(lines: list[str], at: int, line: str) -> str:
    changed = list(lines)
    changed[at] = line
    return HEADER + "".join(changed)


GOOD = rows(60)
BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "a bad amount in a late block": (broken(GOOD, 50, "user-x,1.2.3,0\n"), "{f}:52 column BTC: "),
    "an id repeated across blocks": (
        broken(GOOD, 55, "user-000003,1,1\n"),
        "{f}:57: account id 'user-000003' appears again (first on line 5)",
    ),
    "an id repeated within a block": (
        broken(GOOD, 41, "user-000040,1,1\n"),
        "{f}:43: account id 'user-000040' appears again (first on line 42)",
    ),
    "a blank line": (broken(GOOD, 30, "\n"), "{f}:32: blank line"),
    "a missing field": (broken(GOOD, 44, "user-y,1\n"), "{f}:46: expected 3 fields (account and 2 amounts), found 2"),
    "a negative amount": (broken(GOOD, 58, "user-z,-1,0\n"), "{f}:60 column BTC: "),
    "invalid UTF-8 late in the file": (
        (HEADER + "".join(GOOD)).encode() + b"bad-\xff,1,1\n",
        "{f}:62: not valid UTF-8 (byte ",
    ),
    "a lone carriage return": (
        broken(GOOD, 47, "user-cr,1,1\r"),
        "{f}:49: carriage return without line feed; use LF or CRLF line ends",
    ),
    "an id not in NFC": (broken(GOOD, 35, "cafe\u0301,1,1\n"), "{f}:37: "),
    "a byte-order mark": (
        "\ufeff" + HEADER + "".join(GOOD),
        "{f}:1: starts with a UTF-8 byte-order mark; write UTF-8 without one",
    ),
    "an unknown asset": (
        "account,BTC,XRP\n" + "".join(GOOD),
        "{f}:1: no decimals known for asset XRP (columns: BTC,XRP)",
    ),
    "an empty file": ("", "{f}:1: empty file: expected a header 'account,<SYMBOL>,…'"),
    "a header alone": (HEADER, "{f}: no accounts: a snapshot has at least one"),
    "a bad header and bad UTF-8 (the file-wide check first)": (
        b"acount,BTC,ETH\n" + "".join(GOOD).encode() + b"\xfe,1,1\n",
        "{f}:62: not valid UTF-8 (byte ",
    ),
    "a repeat before a bad amount": (
        broken(broken(GOOD, 10, "user-000002,1,1\n").splitlines(keepends=True)[1:], 50, "user-q,x,1\n"),
        "{f}:12: account id 'user-000002' appears again (first on line 4)",
    ),
    "a bad amount on a row whose id repeats another block's": (
        broken(GOOD, 50, "user-000004,1.2.3,0\n"),
        "{f}:52: account id 'user-000004' appears again (first on line 6)",
    ),
    "a bad amount before a repeat": (
        broken(broken(GOOD, 50, "user-000002,1,1\n").splitlines(keepends=True)[1:], 10, "user-q,x,1\n"),
        "{f}:12 column BTC: ",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_gives_the_single_machine_error(tmp_path: Path, case: str) -> None:
    content, expected = BAD_FILES[case]
    liabilities = write(tmp_path / "liabilities.csv", content)
    one, many = both_errors(tmp_path, liabilities, REQUEST, staged(tmp_path, 64, 256))
    assert many == one
    assert many.startswith(expected.format(f=liabilities))
    assert not (tmp_path / "staged").exists()
    assert list((tmp_path / "work").iterdir()) == []


def both_errors(tmp_path: Path, liabilities: Path, request: SnapshotRequest, cluster: Cluster) -> tuple[str, str]:
    """The error of the single-machine publish, and of the staged one."""
    with pytest.raises(InputError) as one:
        publish(liabilities, request, tmp_path / "one", secret=SECRET)
    with pytest.raises(InputError) as many:
        publish(liabilities, request, tmp_path / "staged", secret=SECRET, cluster=cluster)
    return str(one.value), str(many.value)


def test_a_total_of_2_to_the_128_gives_the_single_machine_error(tmp_path: Path) -> None:
    big = (1 << 127) // 10**8
    content = (
        HEADER + "".join(rows(30)) + f"whale-1,{big}.00000000,0\nwhale-2,{big}.00000000,0\nwhale-3,{big}.00000000,0\n"
    )
    liabilities = write(tmp_path / "liabilities.csv", content)
    one, many = both_errors(tmp_path, liabilities, REQUEST, staged(tmp_path, 100, 300))
    assert many == one
    assert "the total of BTC over the accounts under node (" in many


def test_more_accounts_than_the_height_holds_gives_the_single_machine_error(tmp_path: Path) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(9)))
    low = SnapshotRequest(REQUEST.exchange, REQUEST.snapshot_id, REQUEST.cutoff, REQUEST.decimals, height=3)
    one, many = both_errors(tmp_path, liabilities, low, staged(tmp_path, 64, 256))
    assert many == one == f"a tree of height 3 has 8 slots, fewer than the 9 accounts of {liabilities}"


def test_format_v2_is_refused_on_a_cluster(tmp_path: Path) -> None:
    liabilities = write(tmp_path / "liabilities.csv", HEADER + "".join(rows(3)))
    private = SnapshotRequest(
        REQUEST.exchange, REQUEST.snapshot_id, REQUEST.cutoff, REQUEST.decimals, private_sums=True
    )
    with pytest.raises(InputError) as refused:
        publish(liabilities, private, tmp_path / "out", secret=SECRET, cluster=staged(tmp_path, 64, 256))
    assert str(refused.value) == "format v2 (private sums) is built on one machine: a cluster builds format v1"
