#!/usr/bin/env bash
# Installs the container engines archway's container tests drive (tests/tests/containers.rs),
# idempotently, on a Debian bookworm machine: Debian's docker.io (dockerd, containerd, runc
# and the docker client as /usr/bin/docker), podman and buildah. Nothing is started here:
# the tests start a private dockerd on their own socket and stop it by its pid, and run
# podman and buildah with private storage (machine.md, "Container engines").
# Prints nothing when everything is already there.
set -euo pipefail

# containernetworking-plugins is only a recommendation of podman's, which
# --no-install-recommends leaves out; podman's network setup expects it.
packages=(docker.io podman buildah runc conmon containernetworking-plugins iptables debootstrap)
need=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done

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
