"""The calls app (see harness.build_app) as a module attribute, for `python -m local.functions_host
--app tests.e2e.calls_app:app`."""

from tests.e2e.harness import build_app

app = build_app()
