"""Allow ``python -m pixelvault``."""

from pixelvault.cli.main import main

main()
