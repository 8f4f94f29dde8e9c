"""A council's own frameworks: a folder beside config.toml, loaded with the shipped ones, checked in one pass.

Issue 20, item 3: "A council's own frameworks live outside the installed package. Add a configured frameworks folder
beside config.toml, checked by `frameworks check`. A framework that reuses a shipped id, or a percentage target
above 100, is refused. `frameworks check` reports every mistake in one pass, in plain words, not the validation
library's ("Input tag ... does not match any of the expected tags")."
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import CH_STOP_SMOKING_CONFIG

from bot import config
from bot.cli import main
from kpi_core import loader

OWN = """
schema = 1
id = "hackney-quit-line"
name = "Hackney Quit Line"

[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[[items]]
id = "callers"
label = "People calling the quit line"

[[items]]
id = "quit_dates"
label = "Callers setting a quit date"

[[indicators]]
ref = "Q1"
name = "% of callers setting a quit date"
kind = "percentage"
numerator = "quit_dates"
denominator = "callers"
target = ">= 40"
assumed = "The council's own reading: a caller counts once however often they call."
"""

# What the library says when left to itself: none of it may reach a council officer.
LIBRARY_WORDS = ("Input tag", "does not match any of the expected tags", "Field required", "Input should",
                 "String should match", "Value error", "validation error")


@pytest.fixture(autouse=True)
def no_council_frameworks_after() -> Iterator[None]:
    """Each test starts and ends with the shipped frameworks only (the registry is per process)."""
    loader.use_folder(None)
    yield
    loader.use_folder(None)


def deployment(tmp_path: Path, *frameworks: tuple[str, str], folder: str = "frameworks") -> Path:
    """config.toml with `[frameworks] folder` and a contract on the council's own framework; the files given."""
    (tmp_path / folder).mkdir()
    for name, text in frameworks:
        (tmp_path / folder / name).write_text(text, encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(f'[frameworks]\nfolder = "{folder}"\n' + CH_STOP_SMOKING_CONFIG + (
        '\n[[contracts]]\nid = "quit-line"\nname = "Hackney Quit Line"\nframework = "hackney-quit-line"\n'
        'provider = "breathe-easy"\ncommissioner = "example-council"\nvalue = 50000\nstart = 2025-04-01\n'),
        encoding="utf-8")
    return path


def kpibot(*args: object, cwd: Path) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.delenv("KPIBOT_CONFIG", raising=False)
        return CliRunner().invoke(main, [str(a) for a in args])


def test_a_councils_framework_in_the_folder_beside_config_toml_can_be_contracted_for(tmp_path: Path) -> None:
    path = deployment(tmp_path, ("quit-line.toml", OWN))
    settings = config.load(path, environ={})
    assert settings.frameworks.folder == tmp_path / "frameworks"
    assert settings.contract("quit-line").contract_terms().returns.keys() == {"quarterly"}
    assert loader.get("hackney-quit-line").indicator("Q1").target.text == ">= 40"  # type: ignore[union-attr]
    assert set(loader.shipped()) < set(loader.known())  # beside the shipped ones, not instead of them


def test_the_folder_is_read_from_the_config_files_folder_wherever_kpibot_runs(tmp_path: Path) -> None:
    path = deployment(tmp_path, ("quit-line.toml", OWN))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    listed = kpibot("--config", path, "frameworks", "list", cwd=elsewhere)
    assert listed.exit_code == 0, listed.output
    assert "hackney-quit-line" in listed.output and str(tmp_path / "frameworks" / "quit-line.toml") in listed.output
    assert "ch-stop-smoking" in listed.output
    shown = kpibot("--config", path, "frameworks", "show", "hackney-quit-line", cwd=elsewhere)
    assert shown.exit_code == 0, shown.output
    assert "[assumed] Q1: The council's own reading: a caller counts once however often they call." in shown.output


def test_a_framework_reusing_a_shipped_id_is_refused(tmp_path: Path) -> None:
    path = deployment(tmp_path, ("quit-line.toml", OWN), ("copy.toml", OWN.replace(
        'id = "hackney-quit-line"', 'id = "ch-stop-smoking"')))
    with pytest.raises(config.ConfigError) as excinfo:
        config.load(path, environ={})
    assert "copy.toml: id: 'ch-stop-smoking' is the id of a framework shipped with kpibot" in str(excinfo.value)
    checked = kpibot("--config", path, "frameworks", "check", cwd=tmp_path)
    assert checked.exit_code == 1
    assert ("id: 'ch-stop-smoking' is the id of a framework shipped with kpibot (City and Hackney Stop Smoking "
            "Service); give this one its own id, e.g. id = \"ch-stop-smoking-local\"") in checked.output
    assert loader.get("ch-stop-smoking").name == "City and Hackney Stop Smoking Service"  # the shipped one stands


def test_checking_the_shipped_file_itself_is_not_a_clash(tmp_path: Path) -> None:
    shipped = Path(loader.__file__).parent / "frameworks" / "ch-stop-smoking.toml"
    result = kpibot("frameworks", "check", shipped, cwd=tmp_path)
    assert result.exit_code == 0, result.output


def test_two_files_of_the_folder_with_one_id_are_refused(tmp_path: Path) -> None:
    path = deployment(tmp_path, ("a.toml", OWN), ("b.toml", OWN))
    result = kpibot("--config", path, "frameworks", "check", cwd=tmp_path)
    assert result.exit_code == 1
    assert "id: 'hackney-quit-line' is also the id of a.toml in the same folder" in result.output


@pytest.mark.parametrize(("change", "expected"), [
    pytest.param('target = ">= 40"', "target '>= 140' can never be met (a percentage runs from 0 to 100); write a "
                 "level inside that range", id="percentage target above 100"),
    pytest.param('target = "> 100"', "target '> 100' can never be met", id="more than 100 percent"),
    pytest.param('target = "< 0"', "target '< 0' can never be met", id="below zero"),
    pytest.param('target = ">= 0"', "target '>= 0' is met by every figure", id="a target that judges nothing"),
    pytest.param('target = ">= 40"\ncritical = "< -5"', "critical '< -5' can never be met",
                 id="critical level below zero"),
])
def test_an_impossible_threshold_is_refused(tmp_path: Path, change: str, expected: str) -> None:
    text = OWN.replace('target = ">= 40"', change if change != 'target = ">= 40"' else 'target = ">= 140"')
    with pytest.raises(loader.FrameworkError) as excinfo:
        loader.load_text(text, "quit-line.toml")
    assert any(problem.startswith("indicators #1 (ref 'Q1'): ") and expected in problem
               for problem in excinfo.value.problems), excinfo.value.problems


def test_a_payment_level_above_100_percent_is_refused() -> None:
    text = OWN + ('\n[[payments]]\nid = "pbr"\nname = "Payment by results"\nkind = "linear"\nindicator = "Q1"\n'
                  'share = "5%"\nminimum = 40\nstretch = 160\n')
    with pytest.raises(loader.FrameworkError) as excinfo:
        loader.load_text(text, "quit-line.toml")
    assert excinfo.value.problems == [
        "payments #1 (id 'pbr'): stretch 160 is not a percentage (Q1 is a percentage, from 0 to 100); write the "
        "level as a percentage, e.g. 100"]


def test_frameworks_check_reports_every_mistake_of_every_file_in_one_pass_in_plain_words(tmp_path: Path) -> None:
    """The council officer fixing a file sees each mistake once, with what to write, not one per attempt."""
    broken = (OWN.replace('target = ">= 40"', 'target = ">= 400"')       # a percentage above 100
              .replace('label = "People calling the quit line"', 'labl = "People calling the quit line"')
              .replace('denominator = "callers"', 'denominator = "caller"')  # no such data item
              + '\n[[payments]]\nid = "pbr"\nname = "PbR"\nkind = "linaer"\nindicator = "Q1"\nshare = "5%"\n')
    path = deployment(tmp_path, ("broken.toml", broken), ("copy.toml", OWN.replace('"hackney-quit-line"',
                                                                                      '"lifestyle"')))
    result = kpibot("--config", path, "frameworks", "check", cwd=tmp_path)
    assert result.exit_code == 1
    out = result.output
    folder = tmp_path / "frameworks"
    assert f"{folder / 'broken.toml'}: invalid framework, 5 mistakes" in out
    for line in [
        "items #1 (id 'callers'): label: is required",
        "items #1 (id 'callers'): labl: is not a known key (check its spelling); allowed: assumed, breakdowns",
        "indicators #1 (ref 'Q1'): target '>= 400' can never be met (a percentage runs from 0 to 100)",
        "payments #1 (id 'pbr'): kind = 'linaer' is not one of 'linear' or 'tiers'",
        "indicators #1 (ref 'Q1'): 'caller' is not a data item; did you mean 'callers'?",
    ]:
        assert f"  - {line}" in out, out
    assert f"{folder / 'copy.toml'}: invalid framework, 1 mistake" in out
    assert "2 of 2 framework files have mistakes" in out
    assert not any(words in out for words in LIBRARY_WORDS), out


def test_a_config_naming_a_broken_council_framework_points_at_frameworks_check(tmp_path: Path) -> None:
    path = deployment(tmp_path, ("quit-line.toml", OWN.replace('target = ">= 40"', 'target = ">= 400"')))
    with pytest.raises(config.ConfigError) as excinfo:
        config.load(path, environ={})
    assert "frameworks.folder:" in str(excinfo.value) and "run `kpibot frameworks check`" in str(excinfo.value)
    result = kpibot("--config", path, "status", cwd=tmp_path)
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "Traceback" not in result.output


def test_frameworks_check_without_a_folder_says_how_to_name_one(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(CH_STOP_SMOKING_CONFIG, encoding="utf-8")
    result = kpibot("frameworks", "check", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.output.startswith("Error: config.toml names no frameworks folder; add [frameworks] folder = "
                                    "\"frameworks\"")
    assert result.output.count("Error:") == 1


def test_a_missing_frameworks_folder_is_said_plainly(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[frameworks]\nfolder = "ours"\n' + CH_STOP_SMOKING_CONFIG, encoding="utf-8")
    with pytest.raises(config.ConfigError, match="frameworks.folder: .*ours: 1 mistake \\(no such folder"):
        config.load(path, environ={})
