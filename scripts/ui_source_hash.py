"""The hash of the web UI's source, recorded in the built UI by scripts/build-ui.

Usage: ``python scripts/ui_source_hash.py`` prints the hash of ``ui/``'s
source (``src/`` without tests, ``index.html``, the npm manifest and
lockfile, the Vite and TypeScript configs); ``--write`` also records it in
``argyll/engine/server/ui_dist/build-info.json``. A test compares the two, so
the UI shipped in the package always matches its source.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
DIST = ROOT / "argyll" / "engine" / "server" / "ui_dist"
FILES = ["index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"]


def source_files() -> list[Path]:
    """Every file the build reads, in a stable order."""
    files = [UI / name for name in FILES]
    files += [
        p
        for p in (UI / "src").rglob("*")
        if p.is_file() and ".test." not in p.name and "__snapshots__" not in p.parts
    ]
    return sorted(files, key=lambda p: p.relative_to(UI).as_posix())


def source_hash() -> str:
    """SHA-256 over each file's relative path and content."""
    h = hashlib.sha256()
    for path in source_files():
        h.update(path.relative_to(UI).as_posix().encode() + b"\0")
        h.update(path.read_bytes().replace(b"\r\n", b"\n") + b"\0")
    return h.hexdigest()


def main() -> None:
    digest = source_hash()
    if "--write" in sys.argv[1:]:
        info = {"source_sha256": digest, "files": len(source_files())}
        (DIST / "build-info.json").write_text(json.dumps(info, indent=2) + "\n")
    print(digest)


if __name__ == "__main__":
    main()
