# Shell functions for running commands inside a Debian arm64 root, sourced by
# scripts/debootstrap-arm64.sh and scripts/python-tests.sh. Each takes the root in
# $target and the static interpreter in $static_bin (scripts/build-static.sh).

# `in_root [--proc] COMMAND...`: COMMAND (a command line inside ROOT) under chroot in a
# private mount namespace that disappears with the command. With --proc, ROOT/proc is
# mounted first, and a private devpts instance on ROOT/dev/pts with ROOT/dev/ptmx bound to
# its ptmx (so the root's programs can open pseudo-terminals).
in_root() {
  local proc=0
  if [ "$1" = --proc ]; then proc=1; shift; fi
  unshare --mount --propagation private -- sh -c '
    root=$1; proc=$2; shift 2
    if [ "$proc" = 1 ] && [ -d "$root/proc" ] && [ ! -L "$root/proc" ]; then
      mount -t proc proc "$root/proc"
      if [ -d "$root/dev/pts" ] && mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"; then
        [ -e "$root/dev/ptmx" ] || touch "$root/dev/ptmx"
        mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
      fi
    fi
    exec chroot "$root" "$@"' in_root "$target" "$proc" "$@"
}

# `in_root_binfmt COMMAND...`: COMMAND run by `chroot ROOT` and started by the kernel
# through binfmt_misc's F flag, in a private user namespace (host ids 0..65535 mapped to
# themselves by real root, so root in it may change ids and groups) and mount namespace
# whose own binfmt_misc has the static interpreter registered; ROOT/proc is the host's
# /proc. Needs real root.
in_root_binfmt() {
  local scratch child status=0
  scratch=$(mktemp -d)
  mkfifo "$scratch/go"
  S=$scratch ROOT=$target ARCHWAY=$(dirname "$static_bin")/archway DIR=$(dirname "$static_bin") \
    unshare --user --mount --propagation private -- sh -ec '
      read go < "$S/go"
      mkdir "$S/binfmt_misc"
      mount -t binfmt_misc binfmt_misc "$S/binfmt_misc"
      "$ARCHWAY" binfmt --install arm64 --flags F --interpreter-dir "$DIR" --mount "$S/binfmt_misc" >/dev/null
      mount --rbind /proc "$ROOT/proc"
      exec chroot "$ROOT" "$@"' in_root_binfmt "$@" &
  child=$!
  while [ "$(readlink "/proc/$child/ns/user")" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done
  echo '0 0 65536' >"/proc/$child/uid_map"
  echo '0 0 65536' >"/proc/$child/gid_map"
  echo go >"$scratch/go"
  wait "$child" || status=$?
  rm -rf "$scratch"
  return $status
}
