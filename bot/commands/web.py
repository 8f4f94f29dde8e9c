"""`kpibot web`: serve the web workspace; `--as EMAIL` prints a ready sign-in link (on this machine only)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from bot.commands.common import State, fail, schema_problem

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command("web")
@click.option("--host", default=None, help="Address to listen on (default: [web] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: [web] port, 8080).")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default=None,
              help="Serve the database of a folder `kpibot demo` made, e.g. var/demo.")
@click.option("--as", "as_email", default=None,
              help="Print a single-use sign-in link for this contact (only when serving on this machine).")
@click.pass_obj
def command(state: State, host: str | None, port: int | None, folder: str | None, as_email: str | None) -> None:
    """Serve the web workspace: commissioners' overview, contracts, returns; providers' uploads and answers."""
    from bot.app import App
    from bot.clock import utc_now
    from bot.web import signin
    from bot.web.server import serve_alone

    settings = state.settings
    if folder is not None:
        from bot.demo.replay import MARKER, demo_settings

        if not (Path(folder) / MARKER).is_file():
            fail(f"{folder} is not a folder `kpibot demo` made; run `kpibot demo --dir {folder}` first")
        settings = demo_settings(settings, Path(folder))
    host = host or settings.web.host
    port = port or settings.web.port
    if as_email is not None and host not in LOOPBACK:
        fail("--as prints a sign-in link for this machine only: serve on 127.0.0.1 (the default) to use it")
    if folder is not None or as_email is not None:  # links point where this process listens
        settings = settings.model_copy(update={"web": settings.web.model_copy(
            update={"base_url": f"http://{'127.0.0.1' if host == 'localhost' else host}:{port}"})})
    app = App(settings)
    state._app = app  # closed with the command
    problem = schema_problem(app)
    if problem:
        fail(problem)
    link = None
    if as_email is not None:
        try:
            link = signin.link_url(settings, signin.issue_local(app.engine, as_email, utc_now()))
        except LookupError as exc:
            fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    def started() -> None:
        click.echo(f"kpibot workspace: http://{host}:{port}/ (Ctrl+C stops it)")
        if link:
            click.echo(f"Sign in as {as_email}, once, within {signin.MINUTES} minutes: {link}")

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve_alone(app, host, port, stop, started)

    try:
        asyncio.run(main())
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
