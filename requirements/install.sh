#!/usr/bin/env bash
# Create or update the project's virtual environment with the pinned TFX 1.21 / TensorFlow 2.21 stack.
#
# Usage: requirements/install.sh VENV_DIR
#
# Phase 1 resolves everything except four packages normally, with every version fixed by
# constraints.txt. Phase 2 installs tfx 1.21.0, ml-pipelines-sdk 1.21.0, ml-metadata 1.17.1 and
# tensorflow-data-validation 1.16.1 with --no-deps, because tfx 1.21 declares ml-metadata and
# tensorflow-data-validation 1.21, which are not published for Python 3.11. Phase 3 installs a
# start-up hook that provides tfx_bsl.arrow.sql_util (removed in tfx-bsl 1.21, still imported by
# tensorflow-data-validation 1.16.1) in every interpreter, Beam worker processes included.
# Phase 4 installs this project in editable mode. Re-running on an existing environment only
# installs what changed.
set -euo pipefail

venv=${1:?usage: install.sh VENV_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
python=${PYTHON:-python3.11}

if [ ! -x "$venv/bin/python" ]; then
  echo "Creating virtual environment $venv with $python"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade "pip==26.3"

echo "Phase 1: pinned dependencies"
"$venv/bin/pip" install --quiet -r "$here/requirements.txt" -r "$here/requirements-dev.txt" \
  -c "$here/constraints.txt"

echo "Phase 2: tfx, ml-pipelines-sdk, ml-metadata, tensorflow-data-validation without dependencies"
"$venv/bin/pip" install --quiet --no-deps -r "$here/requirements-nodeps.txt"

echo "Phase 3: tfx_bsl.arrow.sql_util start-up hook"
site_packages=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp "$here/tfx_sqlutil_shim.py" "$here/tfx_sqlutil_shim.pth" "$site_packages/"

echo "Phase 4: tenrec-tfx in editable mode"
"$venv/bin/pip" install --quiet --no-deps --no-build-isolation -e "$root"
