"""Command line: export a finished run in compact form, small enough to commit and ship.

    python -m brian_stdp.pretrained RUN_DIR DEST

The work is done by :mod:`brian_stdp.training.compact`; this module parses the flags.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brian_stdp.cli import HelpFormatter, guarded
from brian_stdp.training.compact import export


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m brian_stdp.pretrained",
                                description=__doc__.split("\n\n")[0],
                                formatter_class=HelpFormatter)
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a finished run directory")
    p.add_argument("dest", type=Path, metavar="DEST", help="a new folder for the compact run")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)

    def body():
        path = export(args.run_dir, args.dest)
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
        return 0

    return guarded(body)


if __name__ == "__main__":
    sys.exit(main())
