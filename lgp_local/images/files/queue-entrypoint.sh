#!/bin/sh
# The queue worker of lgp's LangGraph server image, at the official image's path
# (/storage/queue_entrypoint.sh): it runs queued runs (N_JOBS_PER_WORKER at a time) and serves
# /ok and /metrics on $PORT. DATABASE_URI defaults to POSTGRES_URI, as in the api process.
set -e
if [ -z "${DATABASE_URI:-}" ] && [ -n "${POSTGRES_URI:-}" ]; then export DATABASE_URI="$POSTGRES_URI"; fi
exec python3 -m langgraph_api.queue_entrypoint "$@"
