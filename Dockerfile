# FAROS API image: the locked runtime dependencies plus the faros package (not editable).
# Configuration comes from FAROS_* environment variables (see compose.yaml and the README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m venv "$VIRTUAL_ENV" \
    && pip install --require-virtualenv -r requirements.lock

# The package itself (migrations ship inside it, under faros/adapters/postgres/migrations).
COPY pyproject.toml ./
COPY src ./src
RUN pip install --require-virtualenv --no-deps --no-build-isolation . \
    && rm -rf /app/src

RUN useradd --system --uid 10001 --home-dir /data --no-create-home faros \
    && mkdir -p /data \
    && chown faros:faros /data
USER faros

ENV FAROS_HOST=0.0.0.0 \
    FAROS_PORT=8000 \
    FAROS_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

# `faros serve` applies pending migrations, then serves.
CMD ["faros", "serve"]
