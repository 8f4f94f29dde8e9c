"""Every page of the workspace, in one table (datasette's style): path, view, methods."""

from __future__ import annotations

from starlette.routing import Route

from bot.web.views import (
    contract,
    entra,
    feed,
    overview,
    payments,
    plan_acts,
    plans,
    provider,
    requests,
    returns,
    review_acts,
    signin,
)

ROUTES = [
    Route("/", signin.home),
    Route("/sign-in", signin.sign_in_page, methods=["GET"]),
    Route("/sign-in", signin.sign_in, methods=["POST"]),
    Route("/sign-in/entra", entra.start, methods=["GET"]),
    Route("/sign-in/entra/callback", entra.callback, methods=["GET"]),
    Route("/sign-in/link/{token}", signin.link_page, methods=["GET"]),
    Route("/sign-in/link", signin.use_link, methods=["POST"]),
    Route("/sign-out", signin.sign_out, methods=["POST"]),
    Route("/overview", overview.page),
    Route("/overview.csv", overview.as_csv),
    Route("/contracts/{contract_id}.csv", contract.as_csv),
    Route("/contracts/{contract_id}", contract.page),
    Route("/returns/{obligation_id}", returns.page),
    Route("/returns/{obligation_id}/report.pdf", returns.report_pdf),
    Route("/returns/{obligation_id}/sign-off", review_acts.sign_off, methods=["POST"]),
    Route("/returns/{obligation_id}/query", review_acts.query, methods=["POST"]),
    Route("/returns/{obligation_id}/answer", review_acts.answer, methods=["POST"]),
    Route("/contracts/{contract_id}/payments/{year_id}", payments.page, methods=["GET"]),
    Route("/contracts/{contract_id}/payments/{year_id}", payments.confirm, methods=["POST"]),
    Route("/returns/{obligation_id}/template.xlsx", provider.template),
    Route("/provider", provider.page),
    Route("/upload", provider.upload_page, methods=["GET"]),
    Route("/upload", provider.upload, methods=["POST"]),
    Route("/plans", plans.list_page),
    Route("/plans/{plan_id}", plans.plan_page),
    Route("/plans/{plan_id}/complete", plan_acts.complete, methods=["POST"]),
    Route("/plans/{plan_id}/agree", plan_acts.agree, methods=["POST"]),
    Route("/plans/{plan_id}/return", plan_acts.send_back, methods=["POST"]),
    Route("/plans/{plan_id}/close", plan_acts.close, methods=["POST"]),
    Route("/requests", requests.page, methods=["GET"]),
    Route("/requests", requests.ask, methods=["POST"]),
    Route("/requests/{request_id}/answer", requests.answer, methods=["POST"]),
    Route("/requests/{request_id}/answer-file", requests.answer_file),
    Route("/feed.csv", feed.feed),
    Route("/accessibility", signin.accessibility),
]
