"""Prints the README's generated parts from the models themselves, so the two cannot drift: the settings
table (core.settings.Settings) and the POST /call body (core.api.call_request.CallRequest).

python -m local.settings_doc            # print them
python -m local.settings_doc --write    # update README.md in place
python -m local.settings_doc --check    # exit 1 if README.md does not hold the current ones
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"
CALL_BEGIN = "<!-- call-request:begin -->"
CALL_END = "<!-- call-request:end -->"

DESCRIPTIONS: dict[str, str] = {
    "APP_MODE": "`local` (defaults fit the offline stack) or `azure` (the local-only defaults must be replaced)",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Azure Monitor export of traces, metrics and logs; empty = nothing "
    "leaves the process",
    "COSMOS__ENDPOINT": "Cosmos DB account endpoint",
    "COSMOS__KEY": "Cosmos DB key (the default is the public emulator key); unset with APP_MODE=azure = Entra ID "
    "(managed identity, Cosmos DB Built-in Data Contributor)",
    "COSMOS__DATABASE": "Database holding the calls",
    "COSMOS__CONTAINER": "Container of call documents (partition key `/call_id`)",
    "COSMOS__ENDPOINT_DISCOVERY": "Let the SDK discover regional endpoints (true in Azure, false locally)",
    "STORAGE__CONNECTION_STRING": "Storage account for the event inbox table and the queues (with a key); "
    "STORAGE__ACCOUNT_NAME wins over it",
    "STORAGE__ACCOUNT_NAME": "Storage account reached with Entra ID (identity-based, no key); empty = the "
    "connection string",
    "STORAGE__ENDPOINT_SUFFIX": "DNS suffix of the identity-based storage endpoints",
    "STORAGE__INBOX_TABLE": "Table of claimed event ids (at-least-once delivery guard)",
    "STORAGE__POST_CALL_QUEUE": "Queue of post-call jobs (`<name>-poison` receives failed ones)",
    "ACS__ENDPOINT": "Azure Communication Services endpoint (`http://` allowed for the emulator)",
    "ACS__ACCESS_KEY": "ACS access key (HMAC request signing); unset with APP_MODE=azure = Entra ID (managed "
    "identity)",
    "ACS__PHONE_NUMBER": "The bot's phone number (E.164), bought in ACS",
    "ACS__CALLBACK_BASE_URL": "Public base URL of this app; ACS posts call events under it",
    "ACS__JWKS_URL": "Where ACS publishes the keys that sign its callbacks",
    "ACS__JWT_ISSUER": "Expected issuer of callback JWTs",
    "ACS__JWT_AUDIENCE": "Expected audience of callback JWTs: the ACS resource's immutable id",
    "ACS__RECORDING_ENABLED": "Record calls (ACS call recording, into RECORDINGS__CONTAINER_URL)",
    "ACS__COGNITIVE_SERVICES_ENDPOINT": "Azure AI Services endpoint ACS speaks and listens through (passed on "
    "answer and create; required in Azure; the default points nowhere, for the emulator)",
    "ACS__END_SILENCE_TIMEOUT_S": "Silence (s) that ends a caller's utterance; reaches ACS in ms (0.001 to 10)",
    "ACS__INITIAL_SILENCE_TIMEOUT_S": "Silence (s, whole, 1 to 300 as ACS takes it) before a recognition gives up "
    "and the bot prompts again",
    "RECORDINGS__CONTAINER_URL": "Blob container ACS records into (bring-your-own-storage; ACS's identity needs "
    "Storage Blob Data Contributor on it); read back with STORAGE__CONNECTION_STRING's account",
    "RECORDINGS__MAX_DOWNLOAD_MB": "Largest recording file the report serves (MB)",
    "LLM__PRIMARY__PROVIDER": "`openai` (OpenAI or any OpenAI-compatible server) or `azure_openai`",
    "LLM__PRIMARY__ENDPOINT": "Base URL (`https://api.openai.com/v1`, `http://localhost:11434/v1`, or the Azure "
    "OpenAI resource endpoint); empty = no model configured",
    "LLM__PRIMARY__MODEL": "Model name, or Azure OpenAI deployment name",
    "LLM__PRIMARY__API_KEY": "API key; for Azure OpenAI leave empty to use Entra ID",
    "LLM__PRIMARY__API_VERSION": "Azure OpenAI API version",
    "LLM__PRIMARY__TIMEOUT_S": "Per-request timeout (s)",
    "LLM__FALLBACK__PROVIDER": "Fallback model, used when the primary keeps failing: provider",
    "LLM__FALLBACK__ENDPOINT": "Fallback base URL (empty = no fallback)",
    "LLM__FALLBACK__MODEL": "Fallback model or deployment",
    "LLM__FALLBACK__API_KEY": "Fallback API key",
    "LLM__FALLBACK__API_VERSION": "Fallback Azure OpenAI API version",
    "LLM__FALLBACK__TIMEOUT_S": "Fallback per-request timeout (s)",
    "LLM__SLOW__PRIMARY__PROVIDER": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): provider",
    "LLM__SLOW__PRIMARY__ENDPOINT": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): base URL (empty = the fast model does it all)",
    "LLM__SLOW__PRIMARY__MODEL": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): model or deployment",
    "LLM__SLOW__PRIMARY__API_KEY": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): API key",
    "LLM__SLOW__PRIMARY__API_VERSION": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): Azure OpenAI API version",
    "LLM__SLOW__PRIMARY__TIMEOUT_S": "Slow model (post-call insights; the conversation with `slow_llm_for_chat`): per-request timeout (s)",
    "LLM__SLOW__FALLBACK__PROVIDER": "Slow model's fallback: provider",
    "LLM__SLOW__FALLBACK__ENDPOINT": "Slow model's fallback: base URL (empty = no fallback)",
    "LLM__SLOW__FALLBACK__MODEL": "Slow model's fallback: model or deployment",
    "LLM__SLOW__FALLBACK__API_KEY": "Slow model's fallback: API key",
    "LLM__SLOW__FALLBACK__API_VERSION": "Slow model's fallback: Azure OpenAI API version",
    "LLM__SLOW__FALLBACK__TIMEOUT_S": "Slow model's fallback: per-request timeout (s)",
    "LLM__SLOW_LLM_FOR_CHAT": "The slow model answers the conversation too (run-time option `slow_llm_for_chat`)",
    "LLM__MAX_RETRIES": "Retries of a transient failure (429, 5xx, timeout, broken stream) before the fallback",
    "LLM__FILLER_AFTER_S": "Answer soft timeout (s): a short filler is played when the first sentence takes "
    "longer, then the bot keeps waiting (run-time option `answer_soft_timeout_s`)",
    "LLM__ANSWER_HARD_TIMEOUT_S": "Answer hard timeout (s): past it without the next sentence the bot apologizes "
    "and listens again (run-time option `answer_hard_timeout_s`)",
    "LLM__HISTORY_TOKEN_BUDGET": "Conversation history sent to the model is trimmed to this many tokens",
    "LLM__MAX_TOOL_ROUNDS": "Tool-call rounds per turn",
    "LLM__TEMPERATURE": "Sampling temperature",
    "LLM__RETRY_BACKOFF_S": "First wait between retries (s); doubles each retry, with jitter",
    "LLM__RETRY_BACKOFF_MAX_S": "Longest wait between retries (s)",
    "CONVERSATION__BOT_NAME": "Default bot name",
    "CONVERSATION__BOT_COMPANY": "Default company the bot works for",
    "CONVERSATION__DEFAULT_TASK": "Task of inbound calls and of outbound calls that give none",
    "CONVERSATION__AGENT_PHONE_NUMBER": "Default human agent number for transfers (E.164)",
    "CONVERSATION__DEFAULT_LANGUAGE": "Language a call starts in; one of `CONVERSATION__LANGUAGES`",
    "CONVERSATION__LANGUAGES": "Languages offered: comma-separated `code:name:voice` triples, or a JSON list "
    'of objects with every voice option: `[{"code": "fr-FR", "name": "French", "voice": '
    '"fr-FR-DeniseNeural", "spoken_names": ["Français", "FR"], "custom_voice_endpoint_id": '
    '"<GUID>", "lexicon_url": "https://...", "style_degree": 1.2, "audio_effect": '
    '"eq_telecomhp8k"}]` (see [Voices and languages](#voices-and-languages))',
    "CONVERSATION__TIMEZONE": "Time zone of dates in prompts and reminders",
    "CONVERSATION__CALLBACK_WINDOW_HOURS": "A caller calling back within this window resumes their case",
    "CONVERSATION__SILENCE_RETRIES": "Prompts after silence before the bot says goodbye and hangs up",
    "CONVERSATION__MAX_TURNS": "Turns after which the bot wraps the call up",
    "CONVERSATION__ALLOWED_REGIONS": "Regions (ISO 3166 codes, comma-separated) of the numbers the bot may "
    "call, transfer to and text (toll-fraud guard, `core/models/phone_policy.py`); a region, not a calling "
    "code: +1 is also the Caribbean",
    "CONVERSATION__ALLOWED_NUMBER_TYPES": "Number types the bot may call, transfer to and text: fixed_line, "
    "mobile, fixed_line_or_mobile, toll_free, voip, personal_number, pager, voicemail (premium_rate, "
    "shared_cost and uan never); numbers must also be valid (`phonenumbers.is_valid_number`)",
    "CONVERSATION__ALLOWED_COUNTRY_CODES": "Deprecated: use `CONVERSATION__ALLOWED_REGIONS` (setting both is "
    "an error). Calling codes, comma-separated, each mapped to its main region only (1: US, 44: GB)",
    "CONVERSATION__RESUME_VERIFICATION": "What a caller calling back within the window must confirm before "
    "their finished case resumes (caller ID can be spoofed): `none`, `policy_number` or `date_of_birth` (that "
    "claim field of the case; digits of the date in any order), or `sms_code` (6 digits texted to the "
    "number). Otherwise, and always while the earlier call is live, it is a new case "
    "(`core/models/verification.py`)",
    "CONVERSATION__MAX_SMS_PER_CALL": "SMS the bot may send during one call (its tool); the post-call "
    "summary is apart",
    "CONVERSATION__NEXT_ACTIONS": "Next actions the post-call insights may choose from, comma-separated "
    "snake_case names",
    "CONVERSATION__SMS_SUMMARY_ENABLED": "Text the caller a summary after the call",
    "CONVERSATION__PROMPTS_OVERRIDE_JSON": "JSON overriding phrases and the system prompt (a jinja2 template): "
    '`{"greeting": {"en-US": ["...", "..."], "fr": "...", "*": "..."}, "system": "..."}`; a string or '
    "list applies to every language. Names and template variables: `core/engine/phrases.py`, "
    "`core/engine/prompts.py`",
    "APP_CONFIGURATION__ENDPOINT": "Azure App Configuration store of the run-time options "
    "(`https://<name>.azconfig.io`, Entra ID); empty with no connection string = the app settings",
    "APP_CONFIGURATION__CONNECTION_STRING": "Or its connection string (HMAC-signed requests; the local emulator)",
    "APP_CONFIGURATION__LABEL": "Label of the keys read (empty = the null label)",
    "APP_CONFIGURATION__KEY_PREFIX": "Prefix of the keys read (`<prefix><option>`)",
    "APP_CONFIGURATION__SENTINEL_KEY": "Key (after the prefix) whose change makes every worker reload the options",
    "APP_CONFIGURATION__REFRESH_INTERVAL_S": "How often (s) a worker checks the sentinel key",
    "APP_CONFIGURATION__LOAD_TIMEOUT_S": "The longest (s) a load of the store may delay the first event of a worker",
    "HOLD__MODE": "What the caller hears past the answer soft timeout: `filler` (a short phrase), `sound` "
    "(the hold sound) or `both` (the phrase, then the sound); the sound stops when the first sentence is ready",
    "HOLD__SOUND_URL": "The hold sound ACS downloads and plays: a WAV file, mono, 16-bit PCM, 16 kHz (e.g. a "
    "blob with public read access, or a SAS URL; `python -m local.hold_sound --upload` puts one in Azurite); "
    "required by `sound` and `both`",
    "TRANSLATION__ENDPOINT": "Azure AI Translator endpoint (`https://api.cognitive.microsofttranslator.com` or "
    "the resource's custom domain) that translates the fixed phrases of a language with no built-in set; empty "
    "= the conversation's model translates them",
    "TRANSLATION__API_KEY": "Translator key (`Ocp-Apim-Subscription-Key`)",
    "TRANSLATION__REGION": "Translator resource's region (`Ocp-Apim-Subscription-Region`), for a regional or "
    "multi-service resource",
    "TRANSLATION__CONTAINER": "Blob container (STORAGE__* account) keeping the translated phrase sets: "
    "translated once per deployment, read once per worker",
    "TRANSLATION__TIMEOUT_S": "Longest a translation may take (s); past it the call speaks English",
    "TRANSLATION__RETRY_AFTER_S": "A failed translation is tried again after this long (s); meanwhile English",
    "SMS__PROVIDER": "Who sends and receives the texts: `acs` (ACS SMS on ACS__PHONE_NUMBER, inbound through "
    "Event Grid SMSReceived) or `twilio` (Twilio's REST API, inbound through `POST /sms/twilio`)",
    "SMS__TWILIO__ACCOUNT_SID": "Twilio account SID (`AC` + 32 hex); required with SMS__PROVIDER=twilio",
    "SMS__TWILIO__AUTH_TOKEN": "Twilio auth token: basic auth of the REST calls and the key of the webhook "
    "signature (X-Twilio-Signature); required with SMS__PROVIDER=twilio",
    "SMS__TWILIO__PHONE_NUMBER": "The Twilio number texts are sent from (E.164); empty = ACS__PHONE_NUMBER",
    "SMS__TWILIO__API_BASE_URL": "Base URL of Twilio's REST API (the local stand-in's URL in tests)",
    "SMS__TWILIO__WEBHOOK_URL": "The incoming-message webhook URL exactly as configured in Twilio (Twilio "
    "signs it; set it when a proxy changes the URL the app sees); empty = the URL the request arrived at",
    "SMS__TWILIO__TIMEOUT_S": "Timeout of a Twilio REST call (s)",
    "MONITORING__CONTENT_LOGGING": "Allow phone numbers and conversation text in logs and traces",
    "MONITORING__LOG_LEVEL": "Log level of the product's logger",
    "HTTP__FUNCTION_KEY": "Function key of the local host adapter (in Azure the host manages keys)",
    "HTTP__REPORT_PAGE_SIZE": "Default page size of `GET /call` and `GET /report`",
    "SEARCH__ENDPOINT": "Azure AI Search endpoint; empty = no document search (the bot says no documents "
    "are configured)",
    "SEARCH__INDEX": "Index of the company's documents (filled by `python -m core.ingest <folder>`)",
    "SEARCH__API_KEY": "Search admin or query key; empty = Entra ID (Search Index Data Reader/Contributor)",
    "SEARCH__MODE": "`hybrid` (full text + vector, rank-fused), `text` or `vector`",
    "SEARCH__TOP": "Passages a search returns at most",
    "SEARCH__THRESHOLD": "Hits scoring below this are dropped (reranker score 0-4 with the semantic ranker, "
    "else the search score); 0 keeps all",
    "SEARCH__SEMANTIC_RANKER": "Rerank with the semantic ranker (needs a Basic or higher service)",
    "SEARCH__SEMANTIC_CONFIGURATION": "Semantic configuration of the index",
    "SEARCH__INTEGRATED_VECTORIZER": "Ingestion gives the index an Azure OpenAI vectorizer (queries vectorized "
    "by the service); false = the app embeds queries",
    "SEARCH__TIMEOUT_S": "A search never holds a turn longer than this (s); past it the model hears that "
    "search is unavailable",
    "SEARCH__RESULT_TOKEN_BUDGET": "Estimated tokens of passages given to the model per search",
    "SEARCH__FIELDS__ID": "Index field: key",
    "SEARCH__FIELDS__TITLE": "Index field: passage title (document and section)",
    "SEARCH__FIELDS__CONTENT": "Index field: passage text",
    "SEARCH__FIELDS__SOURCE": "Index field: file path, shown as the citation",
    "SEARCH__FIELDS__CREATED_AT": "Index field: when the passage was indexed",
    "SEARCH__FIELDS__VECTOR": "Index field: the passage's embedding",
    "SEARCH__FIELDS__QUESTION": "Index field: question (reference schema; not filled by ingestion)",
    "SEARCH__FIELDS__ANSWER": "Index field: answer (reference schema; not filled by ingestion)",
    "SEARCH__EMBEDDINGS__PROVIDER": "Embeddings: `openai` (any OpenAI-compatible `/v1`) or `azure_openai`",
    "SEARCH__EMBEDDINGS__ENDPOINT": "Embeddings endpoint (base URL or Azure OpenAI resource); used by ingestion "
    "and by queries on an index without a vectorizer",
    "SEARCH__EMBEDDINGS__MODEL": "Embeddings model, or Azure OpenAI deployment name",
    "SEARCH__EMBEDDINGS__API_KEY": "Embeddings API key; for Azure OpenAI leave empty to use Entra ID",
    "SEARCH__EMBEDDINGS__API_VERSION": "Azure OpenAI API version for embeddings",
    "SEARCH__EMBEDDINGS__DIMENSIONS": "Vector size of the model (1536 for text-embedding-3-small, 384 locally)",
    "SEARCH__EMBEDDINGS__TIMEOUT_S": "Per-request timeout of the embeddings endpoint (s)",
    "SEARCH__CHUNK_TOKENS": "Ingestion: passage size in estimated tokens",
    "SEARCH__CHUNK_OVERLAP_TOKENS": "Ingestion: overlap between neighbouring passages (estimated tokens)",
    "CAMPAIGNS__CONTAINER": "Cosmos DB container (in COSMOS__DATABASE) of campaign and number documents "
    "(partition key `/campaign_id`)",
    "CAMPAIGNS__QUEUE": "Queue whose messages wake a campaign up to place its next calls (`<name>-poison` "
    "receives failed ones)",
    "CAMPAIGNS__MAX_CONCURRENT_CALLS": "Calls of one campaign live at once, when the request does not say",
    "CAMPAIGNS__MAX_CONCURRENT_CALLS_LIMIT": "The most `max_concurrent_calls` a request may ask for",
    "CAMPAIGNS__MAX_NUMBERS": "Numbers one campaign may hold at most",
    "CAMPAIGNS__CALLING_HOURS_START": "Local time calls may start, when the request does not say (HH:MM)",
    "CAMPAIGNS__CALLING_HOURS_END": "Local time calls stop being placed (excluded), when the request does not "
    "say; before the start = the window spans midnight",
    "CAMPAIGNS__TIME_ZONE": "IANA time zone of the calling hours, when neither the request nor the row says",
    "CAMPAIGNS__WATCH_INTERVAL_S": "While calls are live, the campaign looks at them this often (s): a call "
    "whose end was never delivered frees its slot then",
    "CAMPAIGNS__ORPHAN_AFTER_S": "A slot claimed this long ago (s) whose call was never created (a worker "
    "died in between) is placed again",
    "WEBHOOKS__URLS": "Comma-separated URLs receiving the signed call events (`call.ended`, `call.transferred`, "
    "`call.failed`, `insights.ready`); https (http for localhost only); empty = no webhooks",
    "WEBHOOKS__SECRET": "Shared secret of the `Webhook-Signature` HMAC-SHA256 (at least 16 characters; required "
    "with URLs)",
    "WEBHOOKS__PREVIOUS_SECRET": "While rotating the secret, the old one: each request is signed with both "
    "(two `v1=` values) until it is removed",
    "WEBHOOKS__QUEUE": "Storage queue of the deliveries (`<name>-poison` receives malformed messages)",
    "WEBHOOKS__MAX_ATTEMPTS": "Attempts of a delivery before it is given up (`failed` in the delivery log)",
    "WEBHOOKS__RETRY_BACKOFF_S": "Delay (s) before the second attempt, doubling after each failed attempt "
    "(a delayed queue message: survives the worker)",
    "WEBHOOKS__RETRY_BACKOFF_MAX_S": "Longest delay between attempts (s)",
    "WEBHOOKS__TIMEOUT_S": "How long a receiver may take to answer (s); longer is a failed attempt",
    "PRICES__CURRENCY": "Currency of every price (shown with costs)",
    "PRICES__PROMPT_PER_MILLION_TOKENS": "Prompt tokens of a model not in `PRICES__MODELS`, per million",
    "PRICES__COMPLETION_PER_MILLION_TOKENS": "Completion tokens of a model not in `PRICES__MODELS`, per million",
    "PRICES__MODELS": "Per-model token prices, comma-separated `model:prompt:completion` (per million tokens; "
    "the model or deployment name)",
    "PRICES__TTS_PER_MILLION_CHARACTERS": "Text to speech, per million characters (Azure AI Speech neural voices)",
    "PRICES__RECOGNITION_PER_HOUR": "Speech recognition, per hour (Azure AI Speech real-time)",
    "PRICES__INBOUND_PER_MINUTE": "Inbound phone call, per minute (ACS PSTN)",
    "PRICES__OUTBOUND_PER_MINUTE": "Outbound phone call, per minute (ACS PSTN)",
    "PRICES__SMS_EACH": "One SMS sent (ACS SMS)",
}


def iter_settings(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for env, default, _ in iter_described(model, prefix):
        yield env, default


def iter_described(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[tuple[str, Any, str]]:
    """Each setting with its default and its description: DESCRIPTIONS, else the field's own."""
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from iter_described(annotation, f"{env}__")
        else:
            yield env, field.default, DESCRIPTIONS.get(env) or field.description or ""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    text = str(value)
    if text == "":
        return "(empty)"
    if len(text) > 60:
        text = text[:57] + "..."
    return f"`{text}`"


def table() -> str:
    rows = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for env, default, description in iter_described():
        rows.append(f"| `{env}` | {_show(default)} | {description} |")
    return "\n".join(rows)


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "`" + schema["$ref"].rsplit("/", 1)[-1] + "`"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(_type(s) for s in schema[key] if s.get("type") != "null")
    if "enum" in schema:
        return " / ".join(f"`{value}`" for value in schema["enum"])
    if schema.get("type") == "array":
        return "list of " + _type(schema.get("items", {}))
    return str(schema.get("type", "any"))


def _limits(schema: dict[str, Any]) -> str:
    found: list[str] = []
    for part in [schema, *schema.get("anyOf", [])]:
        if part.get("maxLength") is not None:
            found.append(f"{part.get('minLength', 0)}-{part['maxLength']} characters")
        if part.get("maxItems") is not None:
            found.append(f"{part.get('minItems', 0)}-{part['maxItems']} items")
        if part.get("pattern"):
            found.append(f"`{part['pattern']}`")
    return ", ".join(found)


def _fields_table(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    rows = ["| Field | Type | Limits | Meaning |", "|---|---|---|---|"]
    for name, field in schema["properties"].items():
        kind = _type(field) + (" (required)" if name in required else "")
        meaning = " ".join(str(field.get("description", "")).split())
        rows.append(f"| `{name}` | {kind} | {_limits(field)} | {meaning} |")
    return rows


def call_request_doc() -> str:
    """The fields of the POST /call body and of the objects it holds, and its example as a curl command."""
    from core.api.call_request import EXAMPLE, CallRequest

    schema = CallRequest.model_json_schema(mode="validation")
    lines = _fields_table(schema)
    for name, definition in sorted(schema.get("$defs", {}).items()):
        if "properties" in definition:
            lines += ["", f"`{name}`:", "", *_fields_table(definition)]
        elif "enum" in definition:
            lines += ["", f"`{name}`: {_type(definition)}"]
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in EXAMPLE.items())
    curl = (
        'curl -s -X POST "http://127.0.0.1:7071/call?code=local-function-key" '
        f"-H 'content-type: application/json' -d '{{\n{body}\n}}'"
    )
    return "\n".join([*lines, "", "Example:", "", "```bash", curl, "```"])


def replace_section(text: str, begin: str, end: str, content: str) -> str:
    """`text` with what lies between the two markers replaced by `content`."""
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content}\n{end}{tail}"


def generated(text: str) -> str:
    """README text with every generated part current."""
    text = replace_section(text, BEGIN, END, table())
    return replace_section(text, CALL_BEGIN, CALL_END, call_request_doc())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.settings_doc")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    mode.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    if not (args.check or args.write):
        print(table(), call_request_doc(), sep="\n\n")
        return 0
    text = README.read_text()
    updated = generated(text)
    if args.write:
        README.write_text(updated)
        return 0
    if updated != text:
        print("README.md is stale: run python -m local.settings_doc --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
