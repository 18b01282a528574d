"""Blob storage in an S3 bucket (AWS or any S3-compatible endpoint), through aioboto3."""

from faros.adapters.s3.storage import S3BlobStorage

__all__ = ["S3BlobStorage"]
