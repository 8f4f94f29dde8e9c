"""Every page of the workspace, in one table (datasette's style): path, view, methods."""

from __future__ import annotations

from starlette.routing import Route

from bot.web.views import overview, signin

ROUTES = [
    Route("/", signin.home),
    Route("/sign-in", signin.sign_in_page, methods=["GET"]),
    Route("/sign-in", signin.sign_in, methods=["POST"]),
    Route("/sign-in/link/{token}", signin.link_page, methods=["GET"]),
    Route("/sign-in/link", signin.use_link, methods=["POST"]),
    Route("/sign-out", signin.sign_out, methods=["POST"]),
    Route("/overview", overview.page),
    Route("/overview.csv", overview.as_csv),
]
