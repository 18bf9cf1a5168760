"""lamptop: a live incident console for LAMP servers."""

__version__ = "0.1.0"
