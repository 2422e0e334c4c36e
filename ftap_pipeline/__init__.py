"""FTAP reporting pipeline: quarterly returns of the DITP's accompanied projects, programme 349."""

__version__ = "0.1.0"
