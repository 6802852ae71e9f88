"""``python -m ltr.cli``: the same as the ``ltr`` command, its signal handling included (SIGTERM exits 143 with
one line, Ctrl-C 130)."""

from ltr.cli import main_entry

main_entry()
