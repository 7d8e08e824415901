"""Replacing a file so that readers see the old version or the new one, never half of
either: write a temporary file in the same folder, then rename it over the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from reserves.errors import InputError


def write_text_atomically(path: Path, text: str, *, encoding: str = "utf-8", what: str = "") -> None:
    """Write ``text`` to ``path`` (mode 0644); on failure ``path`` is untouched and the
    temporary file removed. ``what`` names the file in the error, e.g. ``"report "``."""
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(descriptor, "w", encoding=encoding) as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        raise InputError(f"cannot write {what}{path}: {exc.strerror}") from None
