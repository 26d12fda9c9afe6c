#!/bin/sh
# Container entrypoint: give prometheus-client an empty multiprocess directory on every start
# (stale files from a previous run would otherwise be summed into the metrics), then run the
# breastscan CLI with the container's arguments (default: serve).
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR}"
    mkdir -p "${PROMETHEUS_MULTIPROC_DIR}"
fi
exec breastscan "$@"
