"""`python -m factory`: the `factory` command, for hosts where the script is not on PATH."""

from factory.cli import main

main(prog_name="factory")
