#!/bin/bash
# run.sh - entry point of the benchmark harness: bench/run.sh --lib PATH --reps 5
#
# Everything happens in run.py (python3); this wrapper only records how it was
# invoked, for the command line printed in RESULTS.md.  See bench/README.md.
here=$(cd "$(dirname "$0")" && pwd)
export BENCH_INVOKED_AS="$0"
exec python3 "$here/run.py" "$@"
