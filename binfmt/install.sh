#!/usr/bin/env bash
# Installs archway on this machine and registers it with binfmt_misc, so foreign programs,
# chroots, `docker run --platform linux/arm64` and foreign RUN steps in image builds just run.
#
#   sudo bash binfmt/install.sh                      # build, install to /usr/local/bin, then
#                                                    # `archway binfmt --reset -p yes`
#   sudo bash binfmt/install.sh --systemd            # also /etc/binfmt.d/archway-aarch64.conf, so
#                                                    # systemd-binfmt registers it again at boot
#   sudo bash binfmt/install.sh --prefix /opt/archway -- --install arm64 -c yes
#                                                    # elsewhere, other `archway binfmt` options
#   bash binfmt/install.sh --prefix DIR --no-register  # only the binaries (no root needed)
#
# The binaries are the static-pie builds of scripts/build-static.sh (built here if needed):
# PREFIX/bin/archway and PREFIX/bin/archway-aarch64 need no host libraries, so the F flag
# (`-p yes`) makes the registration work inside chroots and containers that do not hold
# them. They are installed stripped. Options after `--` replace the default registration
# options `--reset -p yes` (the meaning of multiarch/qemu-user-static's flags).
# Run it again to upgrade: the entries are re-registered with the new interpreter (F keeps
# the old file open until then).
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

prefix=/usr/local
register=1
systemd=
binfmt_d=/etc/binfmt.d
usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --no-register) register=; shift ;;
    --systemd) systemd=1; shift ;;
    --binfmt-d) systemd=1; binfmt_d=${2:?--binfmt-d needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
options=("$@")
[ ${#options[@]} -gt 0 ] || options=(--reset -p yes)

if [ -n "$register" ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: registering with binfmt_misc needs root (or pass --no-register)" >&2
  exit 1
fi

interpreter=$(bash "$root_dir/scripts/build-static.sh")
bin_dir=$prefix/bin
mkdir -p "$bin_dir"
for binary in "$interpreter" "$(dirname "$interpreter")/archway"; do
  # Into a temporary name first: the running interpreter may be busy (ETXTBSY).
  install -s -m 0755 "$binary" "$bin_dir/.$(basename "$binary").new"
  mv -f "$bin_dir/.$(basename "$binary").new" "$bin_dir/$(basename "$binary")"
  echo "installed $bin_dir/$(basename "$binary")"
done

if [ -n "$systemd" ]; then
  mkdir -p "$binfmt_d"
  "$bin_dir/archway" binfmt --install arm64 -p yes -c yes --interpreter-dir "$bin_dir" --print \
    > "$binfmt_d/archway-aarch64.conf"
  echo "wrote $binfmt_d/archway-aarch64.conf (systemd-binfmt registers it at boot)"
fi
if [ -n "$register" ]; then
  "$bin_dir/archway" binfmt "${options[@]}"
  "$bin_dir/archway" binfmt --status
fi
