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
# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
install_missing install-container-engines.sh "${packages[@]}"
