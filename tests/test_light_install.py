"""The light install: ``pip install .`` on a machine with no C compiler, and the wheel
``python -m build`` makes, each into a fresh virtual environment, verify a proof without
web3, pyarrow or numpy; a command that needs an extra says which (exit 3)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from support import ROOT

VECTOR = ROOT / "fixtures" / "vectors" / "small"


def source_copy(tmp_path: Path) -> Path:
    """The repository's tracked files (no build output, no virtual environment)."""
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    copy = tmp_path / "source"
    for name in listed:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    return copy


def fresh_environment(folder: Path) -> Path:
    venv.create(folder, with_pip=True)
    return folder / "bin"


def run(command: list[str | Path], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], check=False, capture_output=True, text=True, timeout=600, env=env)


def check_verify_only(bin_dir: Path, tmp_path: Path) -> None:
    verified = run(
        [bin_dir / "reserves", "verify", VECTOR / "proofs" / "slot-00001.json", "--snapshot", VECTOR / "snapshot.json"]
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.rstrip().endswith("PASS: your balances are included in the published root")
    missing = run(
        [
            bin_dir / "python",
            "-c",
            "import importlib.util as u; print([m for m in ('numpy', 'pyarrow', 'web3') if u.find_spec(m)])",
        ]
    )
    assert missing.stdout == "[]\n"
    audit = run([bin_dir / "reserves", "audit", VECTOR / "snapshot.json", "--liabilities", VECTOR / "liabilities.csv",
                 "--secret", VECTOR / "secret", "--liabilities-only"])  # fmt: skip
    assert audit.returncode == 3
    assert audit.stderr == (
        "reserves: cannot run: this command needs numpy, which a verify-only install leaves out: pip install "
        "'reserves[all]' (or reserves[exchange], reserves[auditor])\n"
    )
    page = run([bin_dir / "reserves", "web-verifier", tmp_path / "check.html"])
    assert page.returncode == 0 and (tmp_path / "check.html").stat().st_size > 20_000


def test_pip_install_without_a_compiler_verifies(tmp_path: Path) -> None:
    source = source_copy(tmp_path)
    bin_dir = fresh_environment(tmp_path / "env")
    environment = {**os.environ, "CC": str(tmp_path / "no-compiler")}
    installed = run([bin_dir / "pip", "install", "--quiet", source], env=environment)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert not list((tmp_path / "env").rglob("_bulk*.so"))
    check_verify_only(bin_dir, tmp_path)


def test_built_wheel_installs_and_verifies(tmp_path: Path) -> None:
    source = source_copy(tmp_path)
    built = run([sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", source])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("reserves-*.whl")
    bin_dir = fresh_environment(tmp_path / "env")
    installed = run([bin_dir / "pip", "install", "--quiet", wheel])
    assert installed.returncode == 0, installed.stderr[-3000:]
    check_verify_only(bin_dir, tmp_path)
