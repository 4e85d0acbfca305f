"""pixelvault: a binary data repository and image server for microscopy."""

__version__ = "0.1.0"
__all__ = ["__version__"]
