"""The saved histories' manifest: a SHA-256 per file in ``histories/``.

Old histories replaying against new workflow code is the point of ``test_replay``: a history
is never edited, overwritten or removed. After an intended workflow change, record new
histories under new names and keep the old ones (open runs still have those). The recorders
add each new file here; ``test_replay`` fails when a listed file changed or disappeared, or a
file is not listed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HISTORIES = Path(__file__).parent / "histories"
MANIFEST = Path(__file__).parent / "histories.sha256"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest() -> dict[str, str]:
    """File name -> SHA-256, from ``<sha256>  <file name>`` lines."""
    entries: dict[str, str] = {}
    for line in MANIFEST.read_text().splitlines():
        if line.strip():
            sha, name = line.split(maxsplit=1)
            entries[name] = sha
    return entries


def add_to_manifest(path: Path) -> None:
    """List a newly written history; a name already listed is refused (never re-recorded)."""
    entries = read_manifest() if MANIFEST.exists() else {}
    if path.name in entries:
        raise FileExistsError(f"{path.name} is already in {MANIFEST.name}: saved histories are never replaced")
    entries[path.name] = digest(path)
    MANIFEST.write_text("".join(f"{sha}  {name}\n" for name, sha in sorted(entries.items())))
