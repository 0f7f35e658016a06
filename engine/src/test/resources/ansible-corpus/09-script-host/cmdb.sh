#!/bin/sh
if [ "$1" = "--list" ]; then
  echo '{"app": ["a1", "a2"], "db": {"hosts": ["d1"], "vars": {"backup": "nightly"}}}'
elif [ "$1" = "--host" ]; then
  case "$2" in
    a1) echo '{"ansible_host": "192.0.2.1", "weight": 10}' ;;
    d1) echo '{"ansible_user": "postgres"}' ;;
    *) echo '{}' ;;
  esac
fi
