"""`kpibot web` and `kpibot feed` as an administrator runs them: a real `kpibot web --as` process serving on
127.0.0.1, its printed sign-in link used over HTTP, the feed's tokens made, used and revoked from the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from services import free_port
from test_cli_storage import run, setup

CAROL = "carol@example-council.example"
KPIBOT = str(Path(sys.executable).with_name("kpibot"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """`kpibot web --as CAROL` running on a free port: the config, the address, and the link it printed."""
    config = setup(tmp_path)
    assert run(config, "init")[0] == 0
    port = free_port()
    process = subprocess.Popen([KPIBOT, "--config", str(config), "web", "--port", str(port), "--as", CAROL],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "KPIBOT_WEB_SECRET": "a-test-key-for-signing-sessions"})
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]  # blocks until it prints: no timing guess
    link = re.search(r"(http://127\.0\.0\.1:\d+/sign-in/link/\S+)", lines[1])
    assert lines[0].startswith(f"kpibot workspace: http://127.0.0.1:{port}/") and link, lines
    try:
        yield config, f"http://127.0.0.1:{port}", link.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0  # SIGTERM is a clean stop
        assert "Traceback" not in (process.stderr.read() if process.stderr else "")


def test_the_printed_link_signs_the_commissioner_in_once(served: tuple[Path, str, str]) -> None:
    _, site, link = served
    with httpx.Client(base_url=site) as browser:
        page = browser.get(link)
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
        secret = re.search(r'name="token" value="([^"]+)"', page.text)
        assert page.status_code == 200 and token and secret
        form = {"csrftoken": token.group(1), "token": secret.group(1)}
        assert browser.post("/sign-in/link", data=form).status_code == 303
        overview = browser.get("/overview")
        assert overview.status_code == 200 and "City and Hackney" in overview.text
    with httpx.Client(base_url=site) as stranger:  # the same link again, from another browser
        page = stranger.get(link)
        again = {"csrftoken": re.findall(r'name="csrftoken" value="([^"]+)"', page.text)[0], "token": form["token"]}
        refused = stranger.post("/sign-in/link", data=again)
        assert refused.status_code == 400 and "already been used" in refused.text


def test_a_feed_token_made_by_the_command_line_reads_the_feed_until_revoked(served: tuple[Path, str, str]) -> None:
    config, site, _ = served
    code, out = run(config, "feed", "create", "--council", "example-council", "--label", "Power BI dashboard")
    made = re.search(r"Feed token (\d+) for .*:\n  (\S+)\n", out)
    assert code == 0 and made, out
    number, token = made.groups()
    feed = httpx.get(f"{site}/feed.csv", headers={"Authorization": f"Bearer {token}"})
    assert feed.status_code == 200 and feed.text.startswith("\ufeffcontract,contract_name,")  # BOM: Excel reads UTF-8
    code, out = run(config, "feed", "list")
    assert code == 0 and "Power BI dashboard" in out and token not in out  # only its hash is kept
    code, out = run(config, "feed", "revoke", number)
    assert code == 0 and f"Feed token {number} (example-council, Power BI dashboard) is revoked." in out
    refused = httpx.get(f"{site}/feed.csv", params={"token": token})
    assert refused.status_code == 401 and "ask the council's kpibot administrator" in refused.text
    assert "kpibot feed" not in refused.text  # a Power BI user is told whom to ask, not a command


def test_web_refuses_what_it_cannot_do_in_one_line(tmp_path: Path) -> None:
    config = setup(tmp_path)
    assert run(config, "init")[0] == 0
    code, out = run(config, "web", "--host", "0.0.0.0", "--as", CAROL)
    assert code == 1 and out.strip() == ("Error: --as prints a sign-in link for this machine only: serve on "
                                         "127.0.0.1 (the default) to use it")
    code, out = run(config, "web", "--dir", str(tmp_path / "nowhere"))
    assert code == 1 and "is not a folder `kpibot demo` made" in out and len(out.strip().splitlines()) == 1
    code, out = run(config, "feed", "revoke", "999")
    assert code == 1 and out.startswith("Error: ") and len(out.strip().splitlines()) == 1
    code, out = run(config, "feed", "create", "--council", "breathe-easy")
    assert code == 1 and out.startswith("Error: ") and len(out.strip().splitlines()) == 1
