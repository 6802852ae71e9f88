"""``python -m ltr``: the ``ltr`` command, for an environment whose scripts folder is not on PATH (as ``python -m
pip``); the same as the console script, its one-line interrupt while loading and its signal handling included."""

from ltr._console import main

main()
