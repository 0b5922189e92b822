"""The one typed settings tree of the product.

Read from environment variables the way the Functions host passes app settings: nested sections with
`__` (``COSMOS__DATABASE``). Every default makes the local stack work with no configuration; with
``APP_MODE=azure`` the settings that only make sense locally must be given explicitly.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Re-exported: the LLM section lives in its own module.
from core.llm_settings import LlmEndpointSettings as LlmEndpointSettings
from core.llm_settings import LlmPairSettings as LlmPairSettings
from core.llm_settings import LlmSettings as LlmSettings
from core.runtime_settings import AppConfigurationSettings
from core.settings_acs import ACS_EMULATOR_KEY as ACS_EMULATOR_KEY
from core.settings_acs import LOCAL_AI_SERVICES
from core.settings_acs import AcsSettings as AcsSettings
from core.settings_callbacks import CallbacksSettings
from core.settings_campaigns import CampaignSettings
from core.settings_costs import PriceSettings
from core.settings_search import SearchSettings
from core.settings_sms import SmsSettings
from core.settings_translation import TranslationSettings
from core.settings_types import https_callback_problem
from core.settings_voices import HoldSettings, is_json_languages, language_codes, parse_json_languages
from core.settings_webhooks import WebhookSettings

if TYPE_CHECKING:
    from core.models import LanguageOption
    from core.models.phone_policy import PhonePolicy
    from core.phrasebook import PhraseTable

# Well-known key of the Cosmos DB emulator; public, documented by Microsoft, not a secret.
COSMOS_EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


class ConfigurationError(RuntimeError):
    """Start-up configuration is missing or invalid; the message names every faulty setting."""


def _e164_setting(value: str) -> str:
    # Imported here: phonenumbers' metadata load is not free and only needed when a number is set.
    from core.models.claim import normalize_e164

    return normalize_e164(value)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# The list settings below keep their env format (comma-separated) and are parsed once per value
# (cached): validation at start-up and every later read share the work.


@functools.lru_cache(maxsize=8)
def parse_languages(raw: str) -> tuple[LanguageOption, ...]:
    """``code:name:voice,...`` as language options, or ValueError saying which item is wrong."""
    # Imported here: core.models loads phonenumbers; only needed once the languages are used.
    from core.models import LanguageOption

    if is_json_languages(raw):  # every voice option of each language (core/settings_voices.py)
        return tuple(parse_json_languages(raw))
    shape = f"'{_clip(raw)}' is not a list of code:name:voice triples (e.g. en-US:English:en-US-AvaNeural)"
    if not raw.strip():
        raise ValueError(f"{shape}: it is empty")
    options: list[LanguageOption] = []
    for index, item in enumerate(raw.split(","), start=1):
        parts = [part.strip() for part in item.split(":")]
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{shape}: item {index} '{_clip(item.strip(), 40)}' is not one")
        values = dict(zip(("code", "name", "voice"), parts, strict=True))
        try:
            option = LanguageOption.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0])
            why = "is not a locale like en-US" if field == "code" else error["msg"]
            raise ValueError(f"{shape}: item {index} {field} '{_clip(values[field], 40)}' {why}") from None
        if any(o.code == option.code for o in options):
            raise ValueError(f"{shape}: language {option.code} is listed twice")
        options.append(option)
    return tuple(options)


_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@functools.lru_cache(maxsize=8)
def parse_next_actions(raw: str) -> tuple[str, ...]:
    """``case_closed,call_back`` as next action names in order, or ValueError saying which is wrong."""
    shape = f"'{_clip(raw)}' is not a list of next actions (comma-separated snake_case names)"
    actions: list[str] = []
    for item in raw.split(","):
        name = item.strip()
        if not _ACTION_NAME.match(name):
            shown = f"'{_clip(name, 40)}' is not a snake_case name" if name else "an item is empty"
            raise ValueError(f"{shape}: {shown}")
        if name in actions:
            raise ValueError(f"{shape}: '{name}' is listed twice")
        actions.append(name)
    return tuple(actions)


class CosmosSettings(BaseModel):
    endpoint: str = "http://127.0.0.1:8081"
    # Empty (unset with APP_MODE=azure): Entra ID, the worker's managed identity.
    key: str = COSMOS_EMULATOR_KEY
    database: str = "callcenter"
    container: str = "calls"
    # The local server speaks plain HTTP; the SDK must not try to discover regional endpoints there.
    endpoint_discovery: bool = False


class StorageSettings(BaseModel):
    connection_string: str = "UseDevelopmentStorage=true"
    # Set: identity-based connection to this account (wins over the connection string), as the
    # Functions host's own AzureWebJobsStorage__accountName.
    account_name: str = ""
    endpoint_suffix: str = "core.windows.net"

    @property
    def uses_identity(self) -> bool:
        return bool(self.account_name)

    def service_url(self, service: Literal["blob", "queue", "table"]) -> str:
        """https://<account>.<service>.<suffix>: the endpoint of an identity-based connection."""
        return f"https://{self.account_name}.{service}.{self.endpoint_suffix}"

    inbox_table: str = "eventinbox"
    post_call_queue: str = "post-call"


class ConversationSettings(BaseModel):
    bot_name: str = "Amélie"
    bot_company: str = "Contoso Insurance"
    default_task: str = (
        "Help the caller with their insurance claim. Collect the details of the incident, "
        "reassure them, and create reminders for any follow-up."
    )
    # A valid number (fictional 555-01xx range of area code 415): the phone policy checks it too.
    agent_phone_number: str = "+14155550199"

    @field_validator("agent_phone_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        return _e164_setting(value)

    # Comma-separated "code:name:voice" triples.
    languages: str = (
        "en-US:English:en-US-AvaMultilingualNeural,"
        "fr-FR:French:fr-FR-DeniseNeural,"
        "es-ES:Spanish:es-ES-ElviraNeural"
    )
    # After `languages`: its validator checks it against them. Checked even when left at its default,
    # since the languages may have been changed without it.
    default_language: str = Field(default="en-US", validate_default=True)
    timezone: str = "Europe/Paris"
    callback_window_hours: float = Field(default=24.0, ge=0)
    silence_retries: int = Field(default=2, ge=0, le=10)
    max_turns: int = Field(default=60, ge=1)
    # Toll-fraud guard (core/models/phone_policy.py): regions (ISO 3166) and number types the product
    # may call, transfer to and text.
    allowed_regions: str = "US,CA,FR,ES,GB,DE"
    allowed_number_types: str = "fixed_line,mobile,fixed_line_or_mobile,toll_free"
    # Deprecated (empty by default): calling codes, each mapped to its main region only (+1: the US,
    # not Canada nor the Caribbean). Refused together with ALLOWED_REGIONS.
    allowed_country_codes: str = ""
    max_sms_per_call: int = Field(default=3, ge=0, le=20)
    # What a caller must confirm before a finished case of their number resumes (caller ID can be
    # spoofed): none, policy_number or date_of_birth (claim fields of the case), or sms_code.
    resume_verification: Literal["none", "policy_number", "date_of_birth", "sms_code"] = "none"
    next_actions: str = "case_closed,call_back,send_documents,escalate_to_agent,no_action"
    sms_summary_enabled: bool = False
    prompts_override_json: str = ""

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: str) -> str:
        parse_languages(value)
        return value

    @field_validator("default_language")
    @classmethod
    def _default_language(cls, value: str, info: ValidationInfo) -> str:
        raw = info.data.get("languages")
        if raw is None:  # the languages are invalid: already reported
            return value
        # The codes only: the languages are valid here, and LanguageOption would load core.models
        # (and phonenumbers) at start-up.
        codes = language_codes(raw)
        if value not in codes:
            raise ValueError(f"'{_clip(value)}' is not one of CONVERSATION__LANGUAGES ({', '.join(codes)})")
        return value

    @field_validator("allowed_country_codes", "allowed_regions", "allowed_number_types")
    @classmethod
    def _phone_policy_lists(cls, value: str, info: ValidationInfo) -> str:
        from core.models.phone_policy import parse_setting

        return parse_setting(str(info.field_name), value)

    @model_validator(mode="after")
    def _phone_policy_is_consistent(self) -> ConversationSettings:
        from core.models.phone_policy import check_settings

        regions_given = "allowed_regions" in self.model_fields_set
        check_settings(self.allowed_country_codes, regions_given, self.phone_policy, self.agent_phone_number)
        return self

    @field_validator("next_actions")
    @classmethod
    def _next_actions(cls, value: str) -> str:
        parse_next_actions(value)
        return value

    @field_validator("prompts_override_json")
    @classmethod
    def _prompt_overrides(cls, value: str) -> str:
        from core.phrasebook import parse_overrides

        parse_overrides(value)
        return value

    def language_options(self) -> list[LanguageOption]:
        """The configured languages, in order (fresh copies: callers may keep them in a call)."""
        return [option.model_copy() for option in parse_languages(self.languages)]

    @property
    def country_codes(self) -> frozenset[int]:
        """The deprecated calling codes setting (empty unless set)."""
        from core.models.phone_policy import parse_country_codes

        return (
            parse_country_codes(self.allowed_country_codes)
            if self.allowed_country_codes.strip()
            else frozenset()
        )

    @property
    def phone_policy(self) -> PhonePolicy:
        """What may be called, transferred to and texted (toll-fraud guard)."""
        from core.models.phone_policy import build_policy

        return build_policy(self.allowed_regions, self.allowed_country_codes, self.allowed_number_types)

    @property
    def next_action_names(self) -> tuple[str, ...]:
        """The next actions post-call insights may choose from, in order."""
        return parse_next_actions(self.next_actions)

    @property
    def prompt_overrides(self) -> PhraseTable:
        """Phrase and system prompt overrides: name -> language (or ``*``) -> variants."""
        from core.phrasebook import parse_overrides

        return parse_overrides(self.prompts_override_json)


class MonitoringSettings(BaseModel):
    # Phone numbers and conversation text go to logs and traces only when this is true.
    content_logging: bool = False
    log_level: str = "INFO"


class HttpSettings(BaseModel):
    # Function key of the local host adapter; in Azure the host manages keys itself.
    function_key: str = "local-function-key"
    report_page_size: int = Field(default=20, ge=1, le=200)


class RecordingSettings(BaseModel):
    """Call recordings (ACS__RECORDING_ENABLED switches them on): kept in the project's storage."""

    container_url: str = Field(
        default="http://127.0.0.1:10000/devstoreaccount1/recordings",
        description="Blob container ACS records into (bring-your-own-storage; ACS's managed identity "
        "needs Storage Blob Data Contributor on it). The app reads the files back with "
        "STORAGE__CONNECTION_STRING's account. Default: Azurite's.",
    )
    max_download_mb: int = Field(
        default=200, ge=1, le=2000, description="Largest recording the report serves (MB)."
    )

    @field_validator("container_url")
    @classmethod
    def _container(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or not parts.path.strip("/"):
            raise ValueError(f"'{_clip(value)}' is not a blob container URL (https://account.blob.../name)")
        return value.rstrip("/")

    @property
    def container_name(self) -> str:
        """The container's name: the last segment of its URL."""
        return self.container_url.rsplit("/", 1)[-1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_nested_delimiter="__", env_ignore_empty=True, extra="ignore")

    app_mode: Literal["local", "azure"] = "local"
    applicationinsights_connection_string: str = ""
    cosmos: CosmosSettings = CosmosSettings()
    storage: StorageSettings = StorageSettings()
    acs: AcsSettings = AcsSettings()
    llm: LlmSettings = LlmSettings()
    conversation: ConversationSettings = ConversationSettings()
    app_configuration: AppConfigurationSettings = AppConfigurationSettings()
    monitoring: MonitoringSettings = MonitoringSettings()
    http: HttpSettings = HttpSettings()
    recordings: RecordingSettings = RecordingSettings()
    search: SearchSettings = SearchSettings()
    callbacks: CallbacksSettings = CallbacksSettings()
    campaigns: CampaignSettings = CampaignSettings()
    webhooks: WebhookSettings = WebhookSettings()
    prices: PriceSettings = PriceSettings()
    hold: HoldSettings = HoldSettings()
    translation: TranslationSettings = TranslationSettings()
    sms: SmsSettings = SmsSettings()

    @field_validator("applicationinsights_connection_string")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _azure_needs_real_services(self) -> Settings:
        if self.app_mode != "azure":
            return self
        missing = [
            name
            for name, value, local_default in (
                ("COSMOS__ENDPOINT", self.cosmos.endpoint, CosmosSettings().endpoint),
                ("ACS__ENDPOINT", self.acs.endpoint, AcsSettings().endpoint),
                ("ACS__PHONE_NUMBER", self.acs.phone_number, AcsSettings().phone_number),
                ("ACS__CALLBACK_BASE_URL", self.acs.callback_base_url, AcsSettings().callback_base_url),
                ("ACS__JWKS_URL", self.acs.jwks_url, AcsSettings().jwks_url),
                ("ACS__JWT_AUDIENCE", self.acs.jwt_audience, AcsSettings().jwt_audience),
                ("ACS__COGNITIVE_SERVICES_ENDPOINT", self.acs.cognitive_services_endpoint, LOCAL_AI_SERVICES),
                ("LLM__PRIMARY__ENDPOINT", self.llm.primary.endpoint, ""),
                ("LLM__PRIMARY__MODEL", self.llm.primary.model, ""),
            )
            if value == local_default
        ]
        if self.acs.recording_enabled and self.recordings.container_url == RecordingSettings().container_url:
            missing.append("RECORDINGS__CONTAINER_URL")
        storage = self.storage
        if not storage.uses_identity and "connection_string" not in storage.model_fields_set:
            missing.append("STORAGE__ACCOUNT_NAME (or STORAGE__CONNECTION_STRING)")
        if missing:
            raise ValueError(
                "APP_MODE=azure requires these settings (their defaults only fit the local stack): "
                + ", ".join(missing)
            )
        if problem := https_callback_problem(self.acs.callback_base_url):
            raise ValueError(problem)
        # Keys are never required in Azure: the emulators' keys, left unset, mean the managed identity.
        self.cosmos.key = self.cosmos.key if "key" in self.cosmos.model_fields_set else ""
        self.acs.access_key = self.acs.access_key if "access_key" in self.acs.model_fields_set else ""
        return self


def _env_name(loc: tuple[int | str, ...]) -> str:
    return "__".join(str(part).upper() for part in loc) if loc else "(settings)"


def load_settings() -> Settings:
    """Read the settings, or raise ConfigurationError naming every missing or invalid one."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _env_name(tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            problems.append(message if name == "(settings)" else f"{name}: {message}")
        raise ConfigurationError("Invalid configuration: " + "; ".join(problems)) from None


@functools.cache
def get_settings() -> Settings:
    """Settings of this worker, read once."""
    return load_settings()
