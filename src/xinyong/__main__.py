"""``python -m xinyong`` is the same as the ``xinyong`` command."""

from xinyong.cli import main

main()
