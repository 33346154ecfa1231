# Installing Debian packages only when missing, sourced by the scripts/install-*.sh.

# `install_missing NAME PACKAGE...`: apt-get install the packages dpkg does not know yet
# (checked by name), retrying a busy apt three times; NAME prefixes the messages. Prints
# nothing when all are there.
install_missing() {
  local name=$1 package attempt
  shift
  local need=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  export DEBIAN_FRONTEND=noninteractive
  for attempt in 1 2 3; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; then
      return 0
    fi
    echo "$name: apt-get failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  return 1
}
