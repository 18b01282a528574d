"""The `start_server` fixture: a real `faros serve` per test module (see serve_process.py)."""

from serve_process import server_database_url, start_server

__all__ = ["server_database_url", "start_server"]
