#!/bin/sh
# env_exec.sh - run a command with exactly the environment listed in a
# file, one NAME=VALUE a line, in that order (memcheck_lib.sh: memcheck and
# the check must run a program with the same environment).
#
# usage: env_exec.sh ENVFILE CMD [ARG...]
set -eu
envfile=$1
shift
ncmd=$#
while IFS= read -r var; do
    set -- "$@" "$var"
done <"$envfile"
# "$@" is CMD... then the variables: rotate the command behind them.
i=0
while [ "$i" -lt "$ncmd" ]; do
    arg=$1
    shift
    set -- "$@" "$arg"
    i=$((i + 1))
done
exec env -i "$@"
