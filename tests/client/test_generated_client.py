"""A Python client generated from the live document drives the whole flow (#16, 8).

Against a real `faros serve`: `/openapi.json` is a valid OpenAPI 3.1 document;
openapi-python-client generates a client from it without a single warning; `flow.py`, written
only against that generated package, is `mypy --strict` clean; and run, it goes through
register, login, tasks, sharing, comments, files (downloads included), activity, deletion and
a cookie-keeping client without an unexpected answer.

One test, so that one server and one generation serve every check even when pytest-xdist
spreads a module's tests over workers; each check still runs when an earlier one fails, and
the failure lists them all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from serve_process import FarosServer, StartServer

pytestmark = [pytest.mark.system, pytest.mark.postgres, pytest.mark.slow]

# The generator, mypy and ruff (the generator's post-hooks) of the interpreter running pytest.
TOOLS = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parents[2]
FLOW = Path(__file__).with_name("flow.py")
PACKAGE = "faros_client"
STEP_BOUND = 120.0  # seconds for one subprocess (generator, mypy, flow) on a busy machine


@pytest.fixture(scope="module")
def server(start_server: StartServer) -> FarosServer:
    return start_server()


def run(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    """`command` with the tools' folder first on PATH (the generator's hooks call `ruff`)."""
    env = {**os.environ, "PATH": f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.update(environment)
    return subprocess.run(
        command,
        cwd=REPOSITORY,
        env=env,
        capture_output=True,
        text=True,
        timeout=STEP_BOUND,
        check=False,
    )


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def specification_problems(document: dict[str, Any]) -> list[str]:
    if not str(document.get("openapi", "")).startswith("3.1."):
        return [f"not an OpenAPI 3.1 document: openapi={document.get('openapi')!r}"]
    try:
        validate(document, cls=OpenAPIV31SpecValidator)
    except OpenAPIValidationError as error:
        return [f"openapi-spec-validator refused the document:\n{error}"]
    return []


def generator_warnings(generation: subprocess.CompletedProcess[str]) -> list[str]:
    """A clean run prints only `Generating <path>`; anything else is a dropped piece or a hint.

    The generator exits 0 after warnings (an operation, a response or a model left out), so
    its output is the only place they show.
    """
    lines = [line for line in output_of(generation).splitlines() if line.strip()]
    noise = [line for line in lines if not line.startswith("Generating ")]
    if noise or len(lines) != 1:
        return [f"openapi-python-client warned:\n{output_of(generation)}"]
    return []


def test_generated_client_drives_the_whole_flow(server: FarosServer, tmp_path: Path) -> None:
    response = httpx.get(f"{server.url}/openapi.json", timeout=30)
    assert response.status_code == 200, response.text[:500]
    document_file = tmp_path / "openapi.json"
    document_file.write_bytes(response.content)
    problems = specification_problems(json.loads(response.content))

    generation = run(
        [
            str(TOOLS / "openapi-python-client"),
            "generate",
            "--path",
            str(document_file),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
        ]
    )
    # Without a package nothing below can run: stop here.
    assert generation.returncode == 0, "\n\n".join([*problems, output_of(generation)])
    assert (tmp_path / PACKAGE / "__init__.py").is_file(), output_of(generation)
    problems += generator_warnings(generation)

    # Against the generated types, with the repository's mypy configuration.
    mypy = [str(TOOLS / "mypy"), "--strict", "--cache-dir", str(tmp_path / "mypy-cache")]
    typing = run([*mypy, str(FLOW)], MYPYPATH=str(tmp_path))
    if typing.returncode != 0:
        problems.append(f"mypy --strict {FLOW.name}:\n{output_of(typing)}")

    flow = run([sys.executable, str(FLOW), server.url], PYTHONPATH=str(tmp_path))
    if flow.returncode != 0 or not flow.stdout.strip().endswith("flow complete"):
        problems.append(
            f"{FLOW.name} failed:\n{output_of(flow)}\n"
            f"--- server log (tail) ---\n{server.output()[-3000:]}"
        )

    assert not problems, "\n\n".join(problems)
