"""What infra/ puts in the portal: the workbook reads the metrics and spans the product emits (names
from core.telemetry), the three alerts exist, and the Azure OpenAI deployments get a content filter
with prompt shields. Static checks of the files: no Bicep compiler here."""

from __future__ import annotations

import json
import re
from pathlib import Path

from core import telemetry

INFRA = Path(__file__).resolve().parents[2] / "infra"
WORKBOOK = INFRA / "workbook" / "callcenter.workbook.json"


def _queries() -> dict[str, str]:
    workbook = json.loads(WORKBOOK.read_text())
    assert workbook["version"] == "Notebook/1.0"
    return {
        item["content"]["title"]: item["content"]["query"] for item in workbook["items"] if item["type"] == 3
    }


def test_the_workbook_shows_calls_latency_tokens_cost_and_failures() -> None:
    queries = _queries()
    everything = "\n".join(queries.values())
    for name in (
        telemetry.CALLS,
        telemetry.TRANSFERS,
        telemetry.ANSWER_LATENCY,
        telemetry.ANSWER_OVERHEAD,
        telemetry.GEN_AI_TOKEN_USAGE,
        telemetry.POST_CALL_FAILURES,
        telemetry.POISON_MESSAGES,
    ):
        assert f'"{name}"' in everything, f"the workbook does not show {name}"
    latency = queries["Answer latency percentiles (ms)"]
    assert all(f"percentile(latency_ms, {p})" in latency for p in (50, 90, 95, 99))
    cost = queries["Tokens and cost per call"]
    assert "gen_ai.usage.input_tokens" in cost and "{InputPricePer1M}" in cost and "by call_id" in cost
    assert "requests\n| where success == false" in queries["Function failures"]


def test_the_workbook_is_deployed_with_its_placeholders_filled() -> None:
    dashboard = (INFRA / "modules" / "dashboard.bicep").read_text()
    assert "loadTextContent('../workbook/callcenter.workbook.json')" in dashboard
    text = WORKBOOK.read_text()
    for placeholder in re.findall(r"__[A-Z_]+__", text):
        assert f"'{placeholder}'" in dashboard, f"{placeholder} is never replaced"
    assert "module dashboard 'modules/dashboard.bicep'" in (INFRA / "main.bicep").read_text()


def test_alerts_on_latency_failures_and_poison() -> None:
    dashboard = (INFRA / "modules" / "dashboard.bicep").read_text()
    assert "Microsoft.Insights/scheduledQueryRules@" in dashboard
    for name, needle in [
        ("answer-latency-p95", "percentile(latency_ms, 95)"),
        ("function-failures", "requests | where success == false"),
        ("post-call-poison", f'name == "{telemetry.POISON_MESSAGES}"'),
    ]:
        assert f"name: '{name}'" in dashboard and needle in dashboard, name


def test_the_openai_deployments_have_a_content_filter_with_prompt_shields() -> None:
    openai = (INFRA / "modules" / "openai.bicep").read_text()
    assert "Microsoft.CognitiveServices/accounts/raiPolicies@" in openai
    for name in ("Jailbreak", "Indirect Attack", "Hate", "Sexual", "Violence", "Selfharm"):
        assert f"name: '{name}'" in openai, name
    assert openai.count("raiPolicyName: raiPolicy.name") == 2, "both deployments use the policy"
    main = (INFRA / "main.bicep").read_text()
    for param in (
        "contentFilterHateLevel",
        "contentFilterSexualLevel",
        "contentFilterViolenceLevel",
        "contentFilterSelfHarmLevel",
        "contentFilterJailbreak",
        "contentFilterIndirectAttack",
    ):
        assert re.search(rf"^param {param} ", main, re.MULTILINE), param
    assert "param contentFilterJailbreak bool = true" in main
    assert "param contentFilterIndirectAttack bool = true" in main
