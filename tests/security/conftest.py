"""The security suite reuses the HTTP suite's app and helpers (`tests/http/conftest.py`).

That file is loaded under a module name of its own and its fixtures are re-exported here, so
this folder gets the same in-process app (rate limits and the outbox worker off), clients,
`api`, `kit` and `mail` fixtures without a package layout.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load_http_suite() -> ModuleType:
    name = "faros_tests_http_conftest"
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    path = Path(__file__).resolve().parent.parent / "http" / "conftest.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_http = _load_http_suite()

http_folder = _http.http_folder
http_redis_url = _http.http_redis_url
app = _http.app
container = _http.container
outbox_dir = _http.outbox_dir
client = _http.client
anon = _http.anon
api = _http.api
mail = _http.mail
kit = _http.kit
