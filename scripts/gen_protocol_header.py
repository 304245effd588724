"""Write the protocol's generated copies from host/protocol_spec.py.

Renders ``firmware/include/myoedge_protocol.h`` and ``docs/PROTOCOL.md``.
With ``--check`` it writes nothing and exits 1 when a committed copy differs
from what the spec renders (the tests do the same check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from myoedge.host.protocol_spec import render_c_header, render_markdown

ROOT = Path(__file__).resolve().parents[1]
OUTPUTS = {
    ROOT / "firmware" / "include" / "myoedge_protocol.h": render_c_header,
    ROOT / "docs" / "PROTOCOL.md": render_markdown,
}


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every generated file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args(argv)
    stale = []
    for path, render in OUTPUTS.items():
        text = render()
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path.relative_to(ROOT)} differs from the spec: run "
              f"python scripts/gen_protocol_header.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
