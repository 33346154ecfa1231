#!/usr/bin/env bash
# Installs the container engines archway's container tests drive (tests/tests/containers.rs),
# idempotently, on a Debian bookworm machine: Debian's docker.io (dockerd, containerd, runc
# and the docker client as /usr/bin/docker), podman and buildah. Nothing is started here:
# the tests start a private dockerd on their own socket and stop it by its pid, and run
# podman and buildah with private storage (machine.md, "Container engines").
# Prints nothing when everything is already there.
set -euo pipefail

need=()
command -v dockerd >/dev/null || need+=(docker.io)
[ -x /usr/bin/docker ] || need+=(docker.io)
command -v podman >/dev/null || need+=(podman)
command -v buildah >/dev/null || need+=(buildah)
command -v runc >/dev/null || need+=(runc)
command -v iptables >/dev/null || need+=(iptables)
command -v debootstrap >/dev/null || need+=(debootstrap)

if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  for attempt in 1 2 3; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
      exit 0
    fi
    echo "install-container-engines.sh: apt-get failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  exit 1
fi
