# The e2e tier's LangGraph server when no LangGraph license is available: the open LangGraph API
# server in its in-memory flavour (`langgraph dev`, which needs no license key), serving the same
# graph on 8000. It answers GET /ok like the licensed image, but keeps its state in memory and so
# ignores the POSTGRES_URI / REDIS_URI the operator gives it. With LANGSMITH_API_KEY or
# LANGGRAPH_CLOUD_LICENSE_KEY set, the e2e uses ./Dockerfile (the licensed server image) instead.
FROM python:3.11-slim-bookworm
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
RUN pip install "langgraph-cli[inmem]==0.4.40"
WORKDIR /srv/agent
COPY graph.py langgraph.json ./
RUN useradd --system --uid 10001 --home-dir /srv/agent agent && chown -R 10001:10001 /srv/agent
USER 10001
EXPOSE 8000
CMD ["langgraph", "dev", "--host", "0.0.0.0", "--port", "8000", "--no-browser", "--no-reload"]
