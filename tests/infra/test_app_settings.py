"""The Function App's app settings, as infra/ writes them, hold no key: a small reader of the Bicep
object literals that become app settings (``NAME: value`` lines, ``{ name: ..., value: ... }`` list
items) and of the parameters they read. No Bicep compiler here; the reader is deliberately literal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

INFRA = Path(__file__).resolve().parents[2] / "infra"
FUNCTION_APP = INFRA / "modules" / "functionapp.bicep"

# What a key or a connection string with a key looks like in a Bicep value.
KEY_VALUE = re.compile(
    r"listKeys|listConnectionStrings|AccountKey=|SharedAccessSignature|SharedAccessKey|primaryMasterKey"
    r"|\.primaryKey\b|\.secondaryKey\b|\.keys\[",
    re.IGNORECASE,
)
# App settings that only ever hold a key (or a connection string with one).
KEY_SETTINGS = {
    "AzureWebJobsStorage",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "COSMOS__KEY",
    "ACS__ACCESS_KEY",
    "STORAGE__CONNECTION_STRING",
    "APP_CONFIGURATION__CONNECTION_STRING",
    "SEARCH__API_KEY",
    "SEARCH__EMBEDDINGS__API_KEY",
}
SETTING_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*:\s*(.+?)\s*$")
INLINE = re.compile(r"\{\s*([A-Z][A-Z0-9_]*)\s*:\s*([^{}]+?)\s*\}")
LIST_ITEM = re.compile(r"name:\s*'([^']+)'\s*\n\s*value:\s*([^\n]+)")


def _bicep(path: Path) -> str:
    # Comments out: they may name the settings they explain.
    return "\n".join(line.split("//", 1)[0] for line in path.read_text().splitlines())


def _settings_blocks(text: str) -> dict[str, str]:
    """Every `NAME: value` whose NAME looks like an app setting (upper-case or AzureWebJobs...),
    plus `{ name: 'X', value: ... }` items. Later definitions of a name are all kept (suffixed)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        match = SETTING_LINE.match(line)
        if match and (match.group(1).isupper() or match.group(1).startswith("AzureWebJobs")):
            name = match.group(1)
            found[name if name not in found else f"{name}#{len(found)}"] = match.group(2)
    for name, value in [*INLINE.findall(text), *LIST_ITEM.findall(text)]:
        found[f"{name}#list{len(found)}"] = value
    return found


def _secure_params(text: str) -> set[str]:
    return set(re.findall(r"@secure\(\)\s*\n(?:@description\([^\n]*\)\s*\n)?param\s+(\w+)", text))


def _app_settings() -> dict[str, str]:
    settings = _settings_blocks(_bicep(FUNCTION_APP))
    # main.bicep hands more through additionalAppSettings (search, recordings).
    settings.update({f"main:{k}": v for k, v in _settings_blocks(_bicep(INFRA / "main.bicep")).items()})
    return settings


def test_no_bicep_file_reads_a_key() -> None:
    offenders = [
        f"{path.relative_to(INFRA)}:{number}"
        for path in sorted(INFRA.rglob("*.bicep"))
        for number, line in enumerate(_bicep(path).splitlines(), start=1)
        if KEY_VALUE.search(line)
    ]
    assert offenders == [], f"keys read by the Bicep: {offenders}"


def test_no_app_setting_holds_a_key() -> None:
    settings = _app_settings()
    assert len(settings) > 20, "the reader found too few settings: the Bicep changed shape"
    names = {name.split("#")[0].removeprefix("main:") for name in settings}
    assert not names & KEY_SETTINGS, f"key settings written: {sorted(names & KEY_SETTINGS)}"
    with_keys = {name: value for name, value in settings.items() if KEY_VALUE.search(value)}
    assert with_keys == {}


def test_the_only_api_keys_are_the_users_own_optional_ones() -> None:
    """LLM__*__API_KEY exists for an LLM outside the deployment (OpenAI, ...): from a @secure()
    parameter, written only when that parameter is not empty."""
    text = _bicep(FUNCTION_APP)
    secure = _secure_params(text)
    for name, value in _app_settings().items():
        if not name.split("#")[0].endswith("API_KEY"):
            continue
        assert value in secure, f"{name} = {value} is not a @secure() parameter"
        assert re.search(rf"empty\({value}\)[^\n]*\?\s*\{{\}}\s*:", text), (
            f"{name} is written even when empty"
        )


@pytest.mark.parametrize(
    "setting",
    [
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "STORAGE__ACCOUNT_NAME",
        "COSMOS__ENDPOINT",
        "ACS__ENDPOINT",
        "APP_MODE",
    ],
)
def test_identity_based_connections_are_configured(setting: str) -> None:
    names = {name.split("#")[0] for name in _app_settings()}
    assert setting in names


def test_the_function_app_identity_gets_each_data_role() -> None:
    roles = _bicep(INFRA / "modules" / "roles.bicep")
    for role_id, what in [
        ("b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Storage Blob Data Owner"),
        ("974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Storage Queue Data Contributor"),
        ("0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Storage Table Data Contributor"),
        ("5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", "Cognitive Services OpenAI User"),
        ("516239f1-63e1-4d78-a4de-a74fb236a071", "App Configuration Data Reader"),
        ("00000000-0000-0000-0000-000000000002", "Cosmos DB Built-in Data Contributor"),
    ]:
        assert role_id in roles, what
    assert "sqlRoleAssignments" in roles
    assert "scope: acs" in roles, "ACS role assigned on the ACS resource only"
