"""The ``ltr`` console script: loads the command line, then runs it.

Loading it (argparse, the options' modules) takes a tenth of a second or more on a busy machine, before
:func:`ltr.cli.main_entry` installs its signal handlers; a Ctrl-C then used to print the traceback of whatever module
was being imported. It is one line and exit status 130 here: nothing has been read or written yet.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Console-script entry point (``ltr = ltr._console:main``): :func:`ltr.cli.main_entry` once it has loaded."""
    from ltr._checked_io import reserve_standard_descriptors  # the standard library only

    reserve_standard_descriptors()  # before any import opens a file that would take a closed descriptor's number
    try:
        from ltr.cli import main_entry
    except KeyboardInterrupt:
        print("ltr: interrupted while starting; nothing was read or written", file=sys.stderr)
        sys.exit(130)
    main_entry()
