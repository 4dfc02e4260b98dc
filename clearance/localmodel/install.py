"""Install one cached component (a built binary, a model file) exactly once per machine.

``ensure_installed`` holds the cache lock, returns the component's folder at once when its stamp is
current, and otherwise builds it into a fresh folder under ``.work`` and renames that into place. A
build that fails or is interrupted leaves no folder where a complete one is expected: the final
folder either has a current stamp (written last) or is rebuilt.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clearance.exceptions import LocalModelError
from clearance.localmodel.cache_dir import CacheLayout
from clearance.localmodel.lock import CacheLock
from clearance.localmodel.reporting import Reporter
from clearance.localmodel.stamp import Stamp, stamp_matches, write_stamp


@dataclass(frozen=True)
class BuildContext:
    """What a component's build step gets: ``stage`` to fill, ``work`` for scratch files, ``log``
    for output."""

    stage: Path
    work: Path
    log: Path
    report: Reporter


@dataclass(frozen=True)
class Component:
    """One cached thing. ``build`` fills ``ctx.stage`` so that ``artefact`` (relative to it)
    exists."""

    name: str
    stamp: Stamp
    artefact: str
    build: Callable[[BuildContext], None]


def is_current(layout: CacheLayout, component: Component) -> bool:
    """Whether ``component`` is installed from exactly its stamp (a quick check, without the
    lock)."""
    folder = layout.component_dir(component.name)
    return stamp_matches(folder, component.stamp) and (folder / component.artefact).is_file()


def ensure_installed(
    layout: CacheLayout,
    component: Component,
    *,
    report: Reporter,
    lock_timeout: float,
) -> Path:
    """The path of ``component``'s artefact, building it first if it is missing or stale."""
    layout.create()
    with CacheLock(layout.lock_file, timeout=lock_timeout, on_wait=report):
        final = layout.component_dir(component.name)
        if is_current(layout, component):
            return final / component.artefact
        _remove_abandoned_work(layout)
        work = Path(tempfile.mkdtemp(prefix=f"{component.name}-", dir=layout.work_root))
        try:
            stage = work / "stage"
            stage.mkdir()
            log = layout.log_dir / f"build-{component.name}.log"
            log.write_text("")
            started = time.monotonic()
            component.build(BuildContext(stage=stage, work=work, log=log, report=report))
            if not (stage / component.artefact).is_file():
                raise LocalModelError(f"building {component.name} did not produce {component.artefact}; see {log}")
            write_stamp(stage, component.stamp)
            _swap_into_place(stage, final, work / "previous")
            report(f"{component.name} ready in {time.monotonic() - started:.0f}s: {final}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return final / component.artefact


def _swap_into_place(stage: Path, final: Path, aside: Path) -> None:
    # A folder cannot be renamed over a non-empty one: move the stale one aside first. Between the
    # two renames there is no folder at all, which reads as "not installed", never as a half-built
    # one.
    if final.exists():
        os.rename(final, aside)
    os.rename(stage, final)


def _remove_abandoned_work(layout: CacheLayout) -> None:
    # Called with the lock held: nobody else is building, so anything here was left by an
    # interrupted build.
    for leftover in layout.work_root.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
