"""Compile every locale/*/LC_MESSAGES/*.po into its .mo with polib (pure Python).

`make install`, `make run` and `make test` run it, so a fresh machine with only Python
gets the Hindi pages without GNU gettext's msgfmt (which Django's compilemessages needs).
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    compiled = 0
    for po_path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        compiled += 1
    if compiled:
        print(f"compile_messages: {compiled} catalogue(s) compiled", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
