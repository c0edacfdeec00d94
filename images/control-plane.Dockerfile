# syntax=docker/dockerfile:1
# The lgp control plane: the API server and web UI (`lgp control-plane serve`).
#
#   docker build -f images/control-plane.Dockerfile --build-arg VERSION=0.1.0 -t lgp-control-plane:0.1.0 .
#
# Two stages: the builder makes the project's wheel and installs it with its dependencies into a
# virtualenv; the runtime stage copies only that virtualenv onto a fresh slim base (no pip cache, no
# sources, no build tools) and runs as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Only what the wheel is built from (the .dockerignore allowlist keeps the context this small).
COPY pyproject.toml README.md ./
COPY lgp_cli ./lgp_cli
COPY lgp_contract ./lgp_contract
COPY control_plane ./control_plane
COPY operator ./operator
RUN python -m pip wheel --no-deps --wheel-dir /wheels . \
 && python -m venv /opt/lgp \
 && /opt/lgp/bin/pip install /wheels/*.whl \
 && /opt/lgp/bin/lgp --version

FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="lgp-control-plane" \
      org.opencontainers.image.description="lgp control plane: deployments, revisions, listeners, API and web UI" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/lgp-dev/lgp"
RUN groupadd --system --gid 10001 lgp \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin lgp
COPY --from=builder /opt/lgp /opt/lgp
ENV PATH=/opt/lgp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["lgp"]
CMD ["control-plane", "serve", "--host", "0.0.0.0", "--port", "8080"]
