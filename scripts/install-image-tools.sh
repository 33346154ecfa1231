#!/usr/bin/env bash
# Installs the image tools archway-image's registry tests drive (crates/image/tests/registry.rs),
# idempotently, on a Debian bookworm machine: Debian's docker-registry (the CNCF distribution
# registry, started on loopback by scripts/registry.sh), skopeo (copies test images into it)
# and umoci (builds those images as OCI layouts, no daemon). Nothing is started here, and
# the docker-registry package's own service is left as Debian installs it.
# Prints nothing when everything is already there.
set -euo pipefail

# apache2-utils gives htpasswd (the registry with Basic auth), curl the readiness check of
# scripts/registry.sh.
packages=(docker-registry skopeo umoci apache2-utils curl)
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
    echo "install-image-tools.sh: apt-get failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  exit 1
fi
