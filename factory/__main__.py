"""`python -m verified_factory`: the `factory` command, where the script is not on PATH."""

from verified_factory.cli import main

main(prog_name="factory")
