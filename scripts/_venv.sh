# Sourced by the scripts beside it: makes .venv (once) and installs the project with the given extras
# (e.g. server or server,redis,postgres) and, when a second argument names one, a dependency group of
# pyproject.toml (test), whenever pyproject.toml has changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extra="$1"
group="${2:-}"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "questgraph needs Python 3.11 or newer (found: $("$python" --version 2>&1)); set PYTHON=..." >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$extra${group:+-$group}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing questgraph[$extra]${group:+ and the $group dependency group} into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >&2  # dependency groups need pip 25.1 or newer
  .venv/bin/python -m pip install --quiet -e ".[$extra]" >&2
  if [ -n "$group" ]; then
    .venv/bin/python -m pip install --quiet --group "$group" >&2
  fi
  touch "$stamp"
fi
