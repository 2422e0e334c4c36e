"""`python -m ftap_pipeline` is `ftap`."""

from ftap_pipeline.cli import command

command()
