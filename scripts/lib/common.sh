#!/usr/bin/env bash
# Shared helpers for Berth's scripts: logging, failing clearly, configuration.
# Sourced, never run.

BERTH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export BERTH_ROOT

log() { printf '[berth] %s\n' "$*" >&2; }
die() { printf '[berth] error: %s\n' "$*" >&2; exit 1; }

# Loads scripts/defaults.env without overriding what the caller's environment
# already sets, then exports every BERTH_* value.
load_config() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    key=${line%%=*}
    value=${line#*=}
    if [ -z "${!key+x}" ]; then
      printf -v "$key" '%s' "$value"
    fi
    # shellcheck disable=SC2163 # exporting the variable named by $key
    export "$key"
  done < "$BERTH_ROOT/scripts/defaults.env"
}

need_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (it installs system packages and manages dockerd); run it as root or with sudo"
}

need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"
}

# apt-get install, once per run, only for packages that are missing.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${missing[*]} by hand (Berth's scripts target Debian 12)"
  log "installing ${missing[*]} from Debian"
  if [ -z "${BERTH_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    BERTH_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# Waits until "$@" succeeds, up to $1 seconds; returns 1 on timeout.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
