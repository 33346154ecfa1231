#!/usr/bin/env bash
# Installs the image tools archway-image's registry tests drive (crates/image/tests/registry.rs),
# idempotently, on a Debian bookworm machine: Debian's docker-registry (the CNCF distribution
# registry, started on loopback by scripts/registry.sh), skopeo (copies test images into it)
# and umoci (builds those images as OCI layouts, no daemon), and uidmap for the rootless
# sandbox tests (crates/sandbox/tests/steps.rs). Nothing is started here, and
# the docker-registry package's own service is left as Debian installs it.
# Prints nothing when everything is already there.
set -euo pipefail

# apache2-utils gives htpasswd (the registry with Basic auth), curl the readiness check of
# scripts/registry.sh, uidmap newuidmap/newgidmap (archway-sandbox's rootless steps with
# subordinate ids, crates/sandbox/tests/steps.rs).
packages=(docker-registry skopeo umoci apache2-utils curl uidmap)
# shellcheck source=scripts/lib/apt.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt.sh"
install_missing install-image-tools.sh "${packages[@]}"
