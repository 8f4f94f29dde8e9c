"""One small module per resource: parse the request, ask bot/authz/policy.py, call what the CLI and chat call,
render."""
