# Sourced by the scripts beside it: makes .venv (once) and installs the project with the given extra
# whenever pyproject.toml has changed since the last install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extra="$1"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "questgraph needs Python 3.11 or newer (found: $("$python" --version 2>&1)); set PYTHON=..." >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv" >&2
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$extra"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> installing questgraph[$extra] into .venv" >&2
  .venv/bin/python -m pip install --quiet --upgrade pip >&2
  .venv/bin/python -m pip install --quiet -e ".[$extra]" >&2
  touch "$stamp"
fi
