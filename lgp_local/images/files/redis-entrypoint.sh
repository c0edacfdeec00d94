#!/bin/sh
# Entrypoint of lgp's Redis image: Debian's redis-server, called like the official `redis` image.
# Arguments that start with '-' (or a first argument ending in .conf) go to redis-server, with
# protected mode off unless they (or the config file) set it: the Service is the only way in.
set -e

case "${1:-}" in -*|*.conf) set -- redis-server "$@" ;; esac
if [ "${1:-}" != redis-server ]; then exec "$@"; fi
shift

set_protected=yes
case " $* " in *" --protected-mode "*) set_protected= ;; esac
case "${1:-}" in
  *.conf)
    conf=$1
    shift
    if grep -q '^protected-mode' "$conf"; then set_protected=; fi
    if [ -n "$set_protected" ]; then exec redis-server "$conf" --protected-mode no "$@"; fi
    exec redis-server "$conf" "$@"
    ;;
esac
if [ -n "$set_protected" ]; then exec redis-server --protected-mode no "$@"; fi
exec redis-server "$@"
