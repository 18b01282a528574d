"""Calling webhook receivers over HTTP(S)."""
