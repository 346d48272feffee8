"""``python -m linkage.cli``: the same as the ``renkou`` command."""

from linkage.cli import main

main()
