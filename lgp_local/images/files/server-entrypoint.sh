#!/bin/sh
# The api process of lgp's LangGraph server image (the official image's default): the stock
# langgraph-api under uvicorn on $PORT. The open Postgres runtime (LANGGRAPH_RUNTIME_EDITION=pg)
# reads DATABASE_URI, the official image POSTGRES_URI: with only the latter set, it is copied.
set -e
if [ -z "${DATABASE_URI:-}" ] && [ -n "${POSTGRES_URI:-}" ]; then export DATABASE_URI="$POSTGRES_URI"; fi
exec python3 -m uvicorn langgraph_api.server:app --host "${LANGGRAPH_SERVER_HOST:-0.0.0.0}" \
  --port "${PORT:-8000}" --no-access-log --log-config /usr/local/lib/python3.11/dist-packages/logging.json "$@"
