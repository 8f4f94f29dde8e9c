"""Checked frameworks kept between runs (kpi_core/framework_cache.py): the same frameworks and the same scores as
checking every file in full, never a stale one, and safe when processes write at once or an entry is torn."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_council_frameworks import OWN

from bot.config import framework_cache_folder
from kpi_core import framework_cache, loader
from kpi_core.framework_cache import FrameworkCache, key_of

ROOT = Path(__file__).resolve().parent.parent


def _forget() -> None:
    """Drop what this process has loaded, so the next call reads the files (or the cache) again."""
    loader._shipped_data.cache_clear()
    loader._opened.clear()
    loader._ids.clear()
    loader.shipped.cache_clear()
    loader._versions.cache_clear()
    loader._later.clear()


@pytest.fixture
def cached(tmp_path: Path) -> Iterator[Path]:
    """This process keeps checked frameworks in a fresh folder; afterwards, as before (no cache, files re-read)."""
    folder = tmp_path / "cache" / "frameworks"
    loader.use_cache(folder)
    loader.use_folder(None)
    _forget()
    yield folder
    loader.use_cache(None)
    loader.use_folder(None)
    _forget()


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.pickle"))


def test_frameworks_from_the_cache_are_the_frameworks_checked_in_full(cached: Path) -> None:
    checked = {fid: (framework, loader.versions(fid)) for fid, framework in loader.known().items()}
    assert len(entries(cached)) == len(checked) + 1  # one per shipped file, and which file holds each id
    _forget()
    written = {path: path.stat().st_mtime_ns for path in entries(cached)}
    again = {fid: (framework, loader.versions(fid)) for fid, framework in loader.known().items()}
    assert again == checked  # every field, the implied rules, every later version
    assert all(a[0] is not c[0] for a, c in zip(again.values(), checked.values()))  # read back, not this process's
    assert {path: path.stat().st_mtime_ns for path in entries(cached)} == written  # a hit writes nothing


def test_a_framework_asked_for_by_id_is_read_alone_and_is_the_one_every_framework_holds(cached: Path) -> None:
    every = {fid: (framework, loader.versions(fid)) for fid, framework in loader.known().items()}
    _forget()
    framework = loader.get("ch-stop-smoking")
    assert list(loader._opened) == ["kpi_core/frameworks/ch-stop-smoking.toml"]  # its own file only
    assert (framework, loader.versions("ch-stop-smoking")) == every["ch-stop-smoking"]
    assert loader.known()["ch-stop-smoking"] is framework  # read once: asking for all gives the same object
    assert {fid: (f, loader.versions(fid)) for fid, f in loader.known().items()} == every
    with pytest.raises(KeyError, match="unknown framework 'no-such'; known: ch-stop-smoking, "):
        loader.get("no-such")


def test_a_changed_framework_file_is_checked_again_never_served_stale(cached: Path, tmp_path: Path) -> None:
    folder = tmp_path / "own"
    folder.mkdir()
    (folder / "quit-line.toml").write_text(OWN, encoding="utf-8")
    first = loader.use_folder(folder)[0]
    assert len(entries(cached)) == 6  # the shipped four (checked against its id), their ids, and this one
    (folder / "quit-line.toml").write_text(OWN.replace('target = ">= 40"', 'target = ">= 45"'), encoding="utf-8")
    changed = loader.use_folder(folder)[0]
    assert first.indicators[0].target != changed.indicators[0].target  # the new target, from the new text
    assert changed == loader.load_text((folder / "quit-line.toml").read_text(encoding="utf-8"))
    (folder / "quit-line.toml").write_text(OWN.replace('numerator = "quit_dates"', 'numerator = "quits"'),
                                           encoding="utf-8")
    for _ in range(2):  # a mistake is never stored: it is reported in full every time
        with pytest.raises(loader.FrameworkError, match="quits"):
            loader.use_folder(folder)
    assert len(entries(cached)) == 7


def test_another_kpibot_or_a_torn_or_foreign_entry_is_not_used(cached: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FrameworkCache(cached)
    store.put(OWN, "checked")
    assert store.get(OWN) == "checked" and store.get(OWN + "\n") is None
    monkeypatch.setattr(framework_cache, "FORMAT", "another")  # what another kpi_core would key it by
    framework_cache.code_digest.cache_clear()
    assert store.get(OWN) is None
    monkeypatch.undo()
    framework_cache.code_digest.cache_clear()
    (path,) = entries(cached)
    path.write_bytes(path.read_bytes()[:20])  # torn
    assert store.get(OWN) is None
    path.write_bytes(pickle.dumps((key_of("something else"), "foreign")))  # a file under another's name
    assert store.get(OWN) is None
    store.put(OWN, "checked")  # written whole again
    assert store.get(OWN) == "checked"


def test_a_folder_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    """Entries are pickles, which run code when read: only a folder of this user's alone is trusted."""
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    store = FrameworkCache(folder)
    store.put(OWN, "checked")
    assert entries(folder) == []
    (folder / f"{key_of(OWN)}.pickle").write_bytes(pickle.dumps((key_of(OWN), "planted")))
    assert store.get(OWN) is None
    FrameworkCache(tmp_path / "mine").put(OWN, "checked")
    assert (tmp_path / "mine").stat().st_mode & 0o777 == 0o700  # made for this user alone
    assert [p.stat().st_mode & 0o777 for p in entries(tmp_path / "mine")] == [0o600]


WRITER = """
import sys
from pathlib import Path
from kpi_core import loader
loader.use_cache(Path(sys.argv[1]))
framework = loader.get("ch-stop-smoking")
print(len(framework.rules), len(loader.versions("ch-stop-smoking")))
"""


def test_processes_writing_the_cache_at_once_leave_whole_entries(tmp_path: Path) -> None:
    folder = tmp_path / "frameworks"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # all four write (a cold cache), then all four read
        writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, text=True,
                                    env=env, cwd=ROOT) for _ in range(4)]
        printed = {writer.communicate(timeout=120)[0] for writer in writers}
        assert [writer.returncode for writer in writers] == [0] * 4
        assert len(printed) == 1
    assert sorted(p.suffix for p in folder.iterdir()) == [".pickle"] * 5  # no temporary file left behind
    store = FrameworkCache(folder)
    for path in (ROOT / "kpi_core" / "frameworks").glob("*.toml"):
        _, framework, _ = store.get(path.read_text(encoding="utf-8"))
        assert framework == loader.get(framework.id)


def test_the_cache_folder_follows_the_environment(tmp_path: Path) -> None:
    assert framework_cache_folder({"KPIBOT_CACHE_DIR": "/srv/cache", "HOME": "/home/k"}) == Path(
        "/srv/cache/frameworks")
    assert framework_cache_folder({"KPIBOT_CACHE_DIR": "", "HOME": "/home/k"}) is None  # turned off
    assert framework_cache_folder({"XDG_CACHE_HOME": "/x", "HOME": "/home/k"}) == Path("/x/kpibot/frameworks")
    assert framework_cache_folder({"HOME": "/home/k"}) == Path("/home/k/.cache/kpibot/frameworks")
    assert framework_cache_folder({}) is None


def test_kpibot_score_prints_the_same_from_a_cold_cache_a_warm_one_and_none(tmp_path: Path) -> None:
    from intake_fixtures import sample_csv

    config = tmp_path / "config.toml"
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    config.write_text(text, encoding="utf-8")
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv(seed=4))
    kpibot = Path(sys.executable).with_name("kpibot")
    args = [str(kpibot), "--config", str(config), "score", str(path), "--contract", "ch-stop-smoking", "--period",
            "2025-26-Q2", "--no-history", "--json"]
    printed = []
    for cache in (str(tmp_path / "cache"), str(tmp_path / "cache"), ""):
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=tmp_path,
                              env={**os.environ, "KPIBOT_CACHE_DIR": cache})
        assert done.returncode in (0, 2), done.stderr
        printed.append(done.stdout)
    assert printed[0] == printed[1] == printed[2] and '"indicators"' in printed[0]
    assert len(list((tmp_path / "cache" / "frameworks").glob("*.pickle"))) == 5  # the four, and their ids
    assert len(list((tmp_path / "cache" / "settings").glob("*.pickle"))) == 1


def test_what_an_object_implies_is_worked_out_once_for_that_object_and_not_for_an_equal_one() -> None:
    from kpi_core.per_object import once_per_object

    calls: list[object] = []

    @once_per_object
    def size(items: list[int]) -> int:
        calls.append(items)
        return len(items)

    first, equal = [1, 2], [1, 2]
    assert (size(first), size(first), size(equal)) == (2, 2, 2)
    assert [c is first for c in calls] == [True, False]  # once for each object, even when equal
    equal.append(3)  # (a framework never changes once loaded; a list may, which shows the key is the object)
    assert size(equal) == 2
