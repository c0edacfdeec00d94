# syntax=docker/dockerfile:1
# The lgp data plane: one image, three commands chosen by the chart:
#   lgp listener run   |   lgp operator run   |   lgp usage run
#
#   docker build -f images/data-plane.Dockerfile --build-arg VERSION=0.1.0 -t lgp-data-plane:0.1.0 .
#
# Two stages: the builder makes the project's wheel and installs it with its dependencies into a
# virtualenv; the runtime stage copies only that virtualenv onto a fresh slim base and runs as an
# unprivileged user.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
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
LABEL org.opencontainers.image.title="lgp-data-plane" \
      org.opencontainers.image.description="lgp data plane: listener, LangGraphPlatform operator, usage reporter" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/lgp-dev/lgp"
RUN groupadd --system --gid 10001 lgp \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin lgp \
 && install -d -o 10001 -g 10001 -m 0750 /var/lib/lgp-usage
COPY --from=builder /opt/lgp /opt/lgp
ENV PATH=/opt/lgp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
ENTRYPOINT ["lgp"]
CMD ["operator", "run"]
