"""The ceiling of this machine for a Python ASGI service: the least a FAROS request could cost.

A minimal Litestar app served exactly as `faros serve` serves FAROS (uvicorn, uvloop,
httptools, no access log, same worker count):

* `GET /json` answers a small JSON object — the HTTP stack alone;
* `GET /db` runs `SELECT 1` through an asyncpg pool of the same size as FAROS's pool — the
  HTTP stack plus one database round trip, the floor under any FAROS read.

    python bench/ceiling_app.py --port 8001 --database-url postgresql://... [--workers 1]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import uvicorn
from litestar import Litestar, Request, get


@get("/json")
async def small_json() -> dict[str, Any]:
    return {"status": "ok", "database": "connected", "redis": "disabled"}


@get("/db")
async def select_one(request: Request[Any, Any, Any]) -> dict[str, int]:
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as connection:
        value = await connection.fetchval("SELECT 1")
    return {"value": int(value)}


def create_app() -> Litestar:
    url = os.environ["BENCH_CEILING_DATABASE_URL"]
    size = int(os.environ.get("BENCH_CEILING_POOL", "10"))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(url, min_size=size, max_size=size)
        try:
            yield
        finally:
            await app.state.pool.close()

    return Litestar(route_handlers=[small_json, select_one], lifespan=[lifespan], debug=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pool", type=int, default=10)
    args = parser.parse_args()
    os.environ["BENCH_CEILING_DATABASE_URL"] = args.database_url
    os.environ["BENCH_CEILING_POOL"] = str(args.pool)
    uvicorn.run(
        "ceiling_app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        proxy_headers=False,
        server_header=False,
        app_dir=os.path.dirname(os.path.abspath(__file__)),
    )


if __name__ == "__main__":
    main()
