"""Load framework TOML files and explain, in plain words, every mistake in an invalid one.

The frameworks kpibot ships are in `kpi_core/frameworks/`; a council's own live in a folder beside its config.toml
(`use_folder`), loaded beside them, and may not reuse a shipped id. A framework may carry later versions
(`[[versions]]`, from a contract year on): `for_period` gives the version in force for a period of a contract, so a
stored return is always scored with its own year's targets.
"""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from kpi_core.calendar import Period
from kpi_core.framework.model import Framework
from kpi_core.framework.notes import Version
from kpi_core.framework_cache import FrameworkCache

SHIPPED = "frameworks"
# The package's own folder, not importlib.resources: kpibot is installed as files, and importing resources (with
# tempfile, shutil and the compression modules behind it) was a hundredth of `kpibot score`'s start.
SHIPPED_FOLDER = Path(__file__).parent / SHIPPED


class FrameworkError(ValueError):
    """A framework file is unreadable or invalid; `problems` lists each one as 'key: what is wrong'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _parse(text: str, source: str) -> tuple[dict[str, Any], Framework]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(source, [f"not valid TOML: {exc}"]) from None
    try:
        return data, Framework.model_validate(data)
    except ValidationError:
        from kpi_core.framework.problems import every_problem  # only a file with a mistake needs it

        raise FrameworkError(source, every_problem(data)) from None


def load_text(text: str, source: str = "<text>") -> Framework:
    """Parse and validate framework TOML (its later versions too); raise FrameworkError naming the file and each
    bad key."""
    data, framework = _parse(text, source)
    later_versions(data, framework, source)
    return framework


def load_path(path: str | Path) -> Framework:
    return load_text(_read(path), str(path))


def _read(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(str(path), [f"cannot read the file: {exc}"]) from None


def load_path_versions(path: str | Path) -> tuple[Framework, list[tuple[Version, Framework]]]:
    """A framework file and each of its later versions, built and validated."""
    data, framework = _parse(_read(path), str(path))
    return framework, later_versions(data, framework, str(path))


def later_versions(data: dict[str, Any], framework: Framework, source: str) -> list[tuple[Version, Framework]]:
    """Each `[[versions]]` entry applied on top of the ones before it, as a validated Framework."""
    built = []
    current = copy.deepcopy(data)
    current.pop("versions", None)
    for index, version in enumerate(sorted(framework.versions, key=lambda v: v.from_contract_year)):
        by_ref = {entry.get("ref"): entry for entry in current.get("indicators", [])}
        for change in version.indicators:
            by_ref[change.ref].update(change.model_extra or {})
        current["version"] = version.version
        try:
            built.append((version, Framework.model_validate(current)))
        except ValidationError:
            where = (f"versions #{index + 1} (version {version.version!r}, from contract year "
                     f"{version.from_contract_year})")
            from kpi_core.framework.problems import every_problem

            raise FrameworkError(source, [f"{where}: {p}" for p in every_problem(current)]) from None
        current = copy.deepcopy(current)
    return built


Entry = tuple[dict[str, Any], Framework, str]  # the file as read, its framework, where it came from
Later = tuple[tuple[Version, Framework], ...]
Checked = tuple[dict[str, Any], Framework, Later]  # a valid file: as read, its framework, its later versions

_cache: FrameworkCache | None = None  # where validated frameworks are kept between runs (`use_cache`)
_later: dict[str, Later] = {}  # later versions already built, by source


def use_cache(folder: Path | None) -> None:
    """Keep validated frameworks in `folder` between runs (None: check every file in full each time)."""
    global _cache
    _cache = FrameworkCache(folder) if folder is not None else None


def _from_cache(text: str) -> Checked | None:
    return _cache.get(text) if _cache is not None else None


def _to_cache(text: str, checked: Checked) -> None:
    if _cache is not None:
        _cache.put(text, checked)


def _parse_checked(text: str, source: str) -> Checked:
    """A framework file and its later versions, validated (from the cache when this text was checked before)."""
    checked = _from_cache(text)
    if checked is None:
        data, framework = _parse(text, source)
        checked = (data, framework, tuple(later_versions(data, framework, source)))
        _to_cache(text, checked)
    return checked


@cache
def _shipped_files() -> tuple[tuple[str, str, str], ...]:
    """Each framework file shipped with kpibot: its name, where it came from and its text, by name."""
    return tuple((entry.name, f"kpi_core/{SHIPPED}/{entry.name}", entry.read_text(encoding="utf-8"))
                 for entry in sorted(SHIPPED_FOLDER.iterdir(), key=lambda e: e.name) if entry.name.endswith(".toml"))


_opened: dict[str, Entry] = {}  # shipped files read so far, by source: each is read once, whoever asks first
_ids: dict[str, str] = {}  # each shipped framework's source by id, as kept in the cache


def _shipped_file(source: str, text: str) -> Entry:
    if source not in _opened:
        data, framework, _later[source] = _parse_checked(text, source)
        _opened[source] = (data, framework, source)
    return _opened[source]


@cache
def _shipped_data() -> dict[str, Entry]:
    found: dict[str, Entry] = {}
    for name, source, text in _shipped_files():
        entry = _shipped_file(source, text)
        if entry[1].id in found:
            raise FrameworkError(name, [f"framework id {entry[1].id!r} is already used"])
        found[entry[1].id] = entry
    ids = {fid: source for fid, (_, _, source) in found.items()}
    if _cache is not None and _cache.get(_ids_text()) != ids:
        _cache.put(_ids_text(), ids)
    return found


def _ids_text() -> str:
    """What the shipped frameworks' ids are kept under in the cache: every shipped file's name and text."""
    return "\0".join(["ids of the shipped frameworks", *(f"{name}\0{text}" for name, _, text in _shipped_files())])


def _shipped_entry(framework_id: str) -> Entry:
    """A shipped framework by id (KeyError if none has it). Before every shipped file is asked for, only the file
    that the cache says holds this id is read: `kpibot score` needs one framework, not all of them."""
    if not _shipped_data.cache_info().currsize and _cache is not None:
        if not _ids:
            found = _cache.get(_ids_text())
            _ids.update(found if isinstance(found, dict) else {})
        source = _ids.get(framework_id)
        if source is not None:
            entry = _shipped_file(source, next(text for _, s, text in _shipped_files() if s == source))
            if entry[1].id == framework_id:
                return entry
    return _shipped_data()[framework_id]


_local: dict[str, Entry] = {}  # the council's own frameworks (`use_folder`), by id
_texts: dict[str, str] = {}  # each council framework file's text as last read, by source


@cache
def shipped() -> dict[str, Framework]:
    """Every framework shipped with kpibot, by id (the first contract year's version)."""
    return {fid: framework for fid, (_, framework, _) in _shipped_data().items()}


def known() -> dict[str, Framework]:
    """Every framework a contract may name: the shipped ones and the council's own, by id."""
    return {**shipped(), **{fid: framework for fid, (_, framework, _) in _local.items()}}


def source_of(framework_id: str) -> str:
    """Where a framework came from: `kpi_core/frameworks/x.toml` (shipped) or the council's file."""
    get(framework_id)
    return _entry(framework_id)[2]


def get(framework_id: str) -> Framework:
    """A framework by id (shipped, or the council's own); KeyError lists the known ones."""
    try:
        return _entry(framework_id)[1]
    except KeyError:
        frameworks = known()
        raise KeyError(f"unknown framework {framework_id!r}; known: {', '.join(sorted(frameworks))}") from None


def _entry(framework_id: str) -> Entry:
    return _local[framework_id] if framework_id in _local else _shipped_entry(framework_id)


@cache
def _versions(framework_id: str, source: str) -> tuple[tuple[Version, Framework], ...]:
    data, framework, source = _entry(framework_id)
    return _later[source] if source in _later else tuple(later_versions(data, framework, source))


def versions(framework_id: str) -> tuple[tuple[Version, Framework], ...]:
    """The later versions of a framework, oldest first."""
    get(framework_id)
    return _versions(framework_id, _entry(framework_id)[2])


def use_folder(folder: str | Path | None) -> list[Framework]:
    """Load the council's own frameworks from `folder` (every `*.toml` in it), replacing any loaded before (None:
    none); raise FrameworkError listing every mistake in every file, so nothing half-loaded is used."""
    found: dict[str, Entry] = {}
    problems: list[str] = []
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise FrameworkError(str(folder), ["no such folder: create it and put the council's framework files "
                                               "(*.toml) in it, or remove [frameworks] folder from config.toml"])
        for path in sorted(folder.glob("*.toml")):
            try:
                data, framework, _ = _checked(path, found)
            except FrameworkError as exc:
                problems += [f"{path.name}: {problem}" for problem in exc.problems]
                continue
            found[framework.id] = (data, framework, str(path))
    if problems:
        raise FrameworkError(str(folder), problems)
    _local.clear()
    _local.update(found)
    return [framework for _, framework, _ in found.values()]


def shipped_texts() -> dict[str, str]:
    """The text of each framework file shipped with kpibot, by source."""
    return {source: text for _, source, text in _shipped_files()}


def local_texts() -> dict[str, str]:
    """The text of each of the council's frameworks in use, by file, as `use_folder` read it."""
    return {source: _texts[source] for _, _, source in _local.values()}


def check_file(path: str | Path,
               others: dict[str, Entry] | None = None) -> tuple[Framework, list[tuple[Version, Framework]]]:
    """A council's framework file and its later versions, validated, with its id not already taken by a shipped
    framework or by one of `others` (the rest of its folder); FrameworkError lists every mistake."""
    _, framework, later = _checked(Path(path), others or {})
    return framework, later


def _checked(path: Path, others: dict[str, Entry]) -> tuple[dict[str, Any], Framework, list[tuple[Version, Framework]]]:
    text = _read(path)
    _texts[str(path)] = text
    cached = _from_cache(text)
    if cached is not None:
        data, framework, later = cached[0], cached[1], list(cached[2])
        problems = _id_taken(framework, text, others)
    else:
        data, framework = _parse(text, str(path))
        problems = _id_taken(framework, text, others)
        try:
            later = later_versions(data, framework, str(path))
        except FrameworkError as exc:
            problems += exc.problems
            later = []
        if not problems:
            _to_cache(text, (data, framework, tuple(later)))
    if problems:
        raise FrameworkError(str(path), problems)
    _later[str(path)] = tuple(later)
    return data, framework, later


def _id_taken(framework: Framework, text: str, others: dict[str, Entry]) -> list[str]:
    """Why `framework`'s id cannot be used: a shipped framework or another file of the folder has it."""
    shipped_entry = _shipped_data().get(framework.id)
    if shipped_entry is not None:
        shipped_file = SHIPPED_FOLDER / Path(shipped_entry[2]).name
        if shipped_file.read_text(encoding="utf-8") != text:  # checking the shipped file itself is fine
            return [f"id: {framework.id!r} is the id of a framework shipped with kpibot ({shipped_entry[1].name}); "
                    f"give this one its own id, e.g. id = \"{framework.id}-local\""]
    if framework.id in others:
        return [f"id: {framework.id!r} is also the id of {Path(others[framework.id][2]).name} in the same folder; "
                "give each framework its own id"]
    return []


def contract_year(period: Period, contract_start: date) -> int:
    """1 for a period starting in the contract's first 12 months, 2 in the next 12, ...; 1 before the start.

    Contract years run from the start date ("yr 1", "review target at 24 months"), not from the reporting year,
    so a contract starting in January is still in year 1 in the April quarter."""
    months = (period.start.year - contract_start.year) * 12 + period.start.month - contract_start.month
    if period.start.day < contract_start.day:
        months -= 1
    return max(1, months // 12 + 1)


def for_year(framework_id: str, year: int) -> Framework:
    """The version of a framework in force in contract year `year`."""
    chosen = get(framework_id)
    for version, framework in versions(framework_id):
        if version.from_contract_year <= year:
            chosen = framework
    return chosen


def for_period(framework_id: str, period: Period, contract_start: date) -> Framework:
    """The version of a framework in force for `period` of a contract that started on `contract_start`:
    a return is scored, and re-scored, with its own year's targets, never a later file's."""
    return for_year(framework_id, contract_year(period, contract_start))
