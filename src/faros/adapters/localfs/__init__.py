"""Blob storage in a local directory (the default for development and single-host installs)."""

from faros.adapters.localfs.storage import LocalBlobStorage, validate_key

__all__ = ["LocalBlobStorage", "validate_key"]
