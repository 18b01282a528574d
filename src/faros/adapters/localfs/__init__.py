"""Blob storage in a local directory (the default for development and single-host installs)."""

from faros.adapters.localfs.storage import LocalBlobStorage

__all__ = ["LocalBlobStorage"]
