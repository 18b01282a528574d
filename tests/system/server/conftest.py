"""The `start_server` fixture: a real `faros serve` per test module (see serve_process.py)."""

from serve_process import start_server

__all__ = ["start_server"]
