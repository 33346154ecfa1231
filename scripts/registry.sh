#!/usr/bin/env bash
# A private Debian docker-registry (the CNCF distribution registry, /usr/bin/docker-registry)
# on 127.0.0.1, for crates/image's registry tests (crates/image/tests/registry.rs):
#
#   scripts/registry.sh start DIR [HTPASSWD]   config, storage and log in DIR; prints "PORT PID"
#   scripts/registry.sh stop PID               stops the registry of that pid
#
# The registry serves plain HTTP on a port the kernel picks (addr 127.0.0.1:0; the port is
# read from its log), loopback only; `start` returns once /v2/ answers. With HTPASSWD (a
# bcrypt file, `htpasswd -B`) it asks for Basic credentials. `stop` only stops a
# docker-registry process and waits until it is gone. Nothing else is touched: not the
# docker-registry package's own configuration or service. scripts/install-image-tools.sh
# installs docker-registry.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR [HTPASSWD] | stop PID" >&2
  exit 2
}

start() {
  local dir=$1 htpasswd=${2:-}
  mkdir -p "$dir/storage"
  dir=$(cd "$dir" && pwd)
  {
    echo 'version: 0.1'
    echo 'log:'
    echo '  level: info'
    echo 'storage:'
    echo '  filesystem:'
    echo "    rootdirectory: \"$dir/storage\""
    echo 'http:'
    echo '  addr: 127.0.0.1:0'
    echo '  secret: archway-registry-test'
    if [ -n "$htpasswd" ]; then
      echo 'auth:'
      echo '  htpasswd:'
      echo '    realm: archway-test'
      echo "    path: \"$(realpath "$htpasswd")\""
    fi
  } >"$dir/config.yml"
  : >"$dir/registry.log"
  # docker-registry reads REGISTRY_* variables as configuration (REGISTRY_AUTH_FILE, which
  # podman and skopeo use, would be read as the `auth` section): none of them here.
  local variable
  for variable in $(compgen -e | grep '^REGISTRY_' || true); do
    unset "$variable"
  done
  /usr/bin/docker-registry serve "$dir/config.yml" </dev/null >>"$dir/registry.log" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "registry.sh: docker-registry exited; its log:" >&2
      cat "$dir/registry.log" >&2
      exit 1
    fi
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$dir/registry.log" | head -n 1 | cut -d: -f2 || true)
    # Any HTTP answer will do (a registry with htpasswd answers 401).
    if [ -n "$port" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/v2/"; then
      echo "$port $pid"
      exit 0
    fi
    sleep 0.05
  done
  echo "registry.sh: docker-registry did not answer on 127.0.0.1 within 10 s; its log:" >&2
  cat "$dir/registry.log" >&2
  kill "$pid"
  exit 1
}

# Whether PID is still running (a zombie waiting for its parent is not).
running() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ "$state" != Z ]
}

stop() {
  local pid=$1
  [[ $pid =~ ^[0-9]+$ ]] || usage
  running "$pid" || exit 0
  if [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -d' ' -f1-2)" != "/usr/bin/docker-registry serve" ]; then
    echo "registry.sh: process $pid is not a docker-registry; not stopping it" >&2
    exit 1
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    running "$pid" || exit 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) [ $# -ge 2 ] && [ $# -le 3 ] || usage; start "$2" "${3:-}" ;;
  stop) [ $# -eq 2 ] || usage; stop "$2" ;;
  *) usage ;;
esac
