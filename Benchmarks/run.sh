#!/usr/bin/env bash
# One command for the benchmark (see Benchmarks/run.py --help).
set -euo pipefail
exec python3 "$(dirname "$0")/run.py" "$@"
