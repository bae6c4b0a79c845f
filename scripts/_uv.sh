# shellcheck shell=bash
# Sourced by scripts/run and scripts/test: defines `uv` (a function when uv is not on PATH) after
# installing uv with pip if it is missing. Needs Python 3.11+ with pip; nothing else.

ensure_uv() {
  if command -v uv >/dev/null 2>&1; then
    return
  fi
  if ! python3 -m uv --version >/dev/null 2>&1; then
    echo "==> installing uv (python3 -m pip install uv)" >&2
    # Debian's system Python is "externally managed" (PEP 668); uv is a self-contained binary, so
    # installing it for the user with --break-system-packages touches nothing Debian ships.
    python3 -m pip install --quiet uv \
      || python3 -m pip install --quiet --user --break-system-packages uv
  fi
  if command -v uv >/dev/null 2>&1; then
    return
  fi
  # pip may have put the binary in a directory that is not on PATH (~/.local/bin); the package
  # always works as a module.
  # shellcheck disable=SC2317  # called by the scripts that source this file
  uv() { python3 -m uv "$@"; }
}
