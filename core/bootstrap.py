"""The one composition root of the product: a typed per-worker object, one lazily built field per port.

Nothing else creates clients. Each field is built on first use (adapters import their SDKs then, so a
cold start pays for nothing it does not use) and reused by every invocation of the worker. Tests pass
their own implementations as keyword arguments::

    services = get_services()                 # the worker's, from the environment's settings
    await services.flow.handle_callback(...)
    Services(settings, telephony=FakeTelephony())   # a test's
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from core.callflow import CallFlow
    from core.campaigns.service import CampaignService
    from core.engine.translation import PhraseTranslations
    from core.engine.turn import TurnEngine
    from core.ports import (
        CallbackVerifier,
        CallStore,
        CampaignStore,
        ChatModel,
        DocumentIndex,
        DocumentSearch,
        Embeddings,
        EventInbox,
        OptOutStore,
        PhraseCache,
        PhraseTranslator,
        QueueSender,
        ReadinessReport,
        RecordingStore,
        RuntimeConfig,
        SmsSender,
        Telephony,
        WebhookPoster,
    )

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Lazy(Generic[T]):
    """A field built by ``build(services)`` on first read, then kept."""

    def __init__(self, build: Callable[[Services], T]) -> None:
        self._build = build
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Lazy[T]: ...

    @overload
    def __get__(self, obj: Services, objtype: type | None = None) -> T: ...

    def __get__(self, obj: Services | None, objtype: type | None = None) -> T | _Lazy[T]:
        if obj is None:
            return self
        built: dict[str, Any] = obj.built
        if self._name not in built:
            # The warm-up builds fields in a thread: one build per field, whoever asks first. A lock
            # per field: a field not being built is never held up by another one's build.
            with obj.lock_for(self._name):
                if self._name not in built:
                    built[self._name] = self._build(obj)
        value: T = built[self._name]
        return value

    def __set__(self, obj: Services, value: T) -> None:
        obj.built[self._name] = value


def _credential(s: Services) -> Any:
    """The worker's one Entra ID credential (DefaultAzureCredential), for every client without a key."""
    from core.adapters.identity import build_credential

    return build_credential()


def _identity(s: Services) -> Callable[[], Any]:
    # A source, not the credential: built only if an adapter turns out to have no key.
    return lambda: s.credential


def _calls(s: Services) -> CallStore:
    from core.adapters.cosmos_store import CosmosCallStore

    return CosmosCallStore(s.settings.cosmos, _identity(s))


def _campaign_store(s: Services) -> CampaignStore:
    from core.adapters.cosmos_campaigns import CosmosCampaignStore

    return CosmosCampaignStore(s.settings.cosmos, s.settings.campaigns.container, _identity(s))


def _campaigns(s: Services) -> CampaignService:
    from core.campaigns.service import CampaignService

    return CampaignService(s)


def _inbox(s: Services) -> EventInbox:
    from core.adapters.table_inbox import TableEventInbox

    return TableEventInbox(s.settings.storage, _identity(s))


def _optouts(s: Services) -> OptOutStore:
    from core.adapters.table_optouts import TableOptOutStore

    return TableOptOutStore(s.settings.storage, s.settings.callbacks.optout_table, _identity(s))


def _queues(s: Services) -> QueueSender:
    from core.adapters.storage_queue import StorageQueueSender

    return StorageQueueSender(s.settings.storage, _identity(s))


def _telephony(s: Services) -> Telephony:
    from core.adapters.acs_telephony import AcsTelephony

    return AcsTelephony(s.settings.acs, _identity(s))


def _recordings(s: Services) -> RecordingStore:
    from core.adapters.blob_recordings import BlobRecordingStore

    return BlobRecordingStore(s.settings.storage, s.settings.recordings, _identity(s))


def _sms(s: Services) -> SmsSender:
    """ACS SMS, or Twilio when SMS__PROVIDER=twilio."""
    if s.settings.sms.provider == "twilio":
        from core.adapters.twilio_sms import TwilioSmsSender

        return TwilioSmsSender(s.settings.sms.twilio, s.settings.acs.phone_number)
    from core.adapters.acs_sms import AcsSmsSender

    return AcsSmsSender(s.settings.acs, _identity(s))


def _webhook_poster(s: Services) -> WebhookPoster:
    from core.adapters.webhook_http import AiohttpWebhookPoster

    return AiohttpWebhookPoster()


def _chat_model(s: Services) -> ChatModel:
    """The fast model (the conversation). Raises ModelNotConfiguredError, naming the settings, when
    no model endpoint is set."""
    from core.adapters.openai_chat import OpenAIChatModel

    return OpenAIChatModel(s.settings.llm, credential=_identity(s))


def _slow_chat_model(s: Services) -> ChatModel:
    """The slow model (post-call insights; the conversation when the run-time flag says so); the fast
    one when no slow model is configured."""
    if not s.settings.llm.slow.configured:
        return s.chat_model
    from core.adapters.openai_chat import OpenAIChatModel

    return OpenAIChatModel(s.settings.llm, slow=True, credential=_identity(s))


def _runtime_config(s: Services) -> RuntimeConfig:
    """App Configuration when a store is configured, else the app settings."""
    if not s.settings.app_configuration.configured:
        from core.runtime import StaticRuntimeConfig

        return StaticRuntimeConfig(s.settings)
    from core.adapters.app_configuration import AppConfigurationRuntime

    return AppConfigurationRuntime(s.settings, _identity(s))


def _verifier(s: Services) -> CallbackVerifier:
    from core.adapters.callback_jwt import JwksCallbackVerifier

    return JwksCallbackVerifier(s.settings.acs)


def _search(s: Services) -> DocumentSearch:
    """Azure AI Search when SEARCH__ENDPOINT is set, else the search that says none is configured."""
    settings = s.settings.search
    if not settings.configured:
        from core.engine.search import NoDocumentSearch

        return NoDocumentSearch()
    from core.adapters.ai_search import AiSearch
    from core.adapters.openai_embeddings import OpenAIEmbeddings

    embeddings = OpenAIEmbeddings(settings.embeddings, _identity(s)) if settings.embeddings.endpoint else None
    return AiSearch(settings, embeddings, _identity(s))


def _document_index(s: Services) -> DocumentIndex:
    """The index's write side, for the ingestion command; needs SEARCH__ENDPOINT."""
    from core.adapters.ai_search import AiSearch

    return AiSearch(s.settings.search, credential=_identity(s))


def _embeddings(s: Services) -> Embeddings:
    """Needs SEARCH__EMBEDDINGS__ENDPOINT."""
    from core.adapters.openai_embeddings import OpenAIEmbeddings

    return OpenAIEmbeddings(s.settings.search.embeddings, _identity(s))


def _engine(s: Services) -> TurnEngine:
    from core.engine.turn import TurnEngine

    return TurnEngine(
        s.settings,
        s.chat_model,
        sms=s.sms,
        search=s.search,
        slow_llm=s.slow_chat_model,
        runtime=s.runtime_config,
        inbox=s.inbox,
    )


def _phrase_translator(s: Services) -> PhraseTranslator:
    """Azure AI Translator when TRANSLATION__ENDPOINT is set, else the conversation's model."""
    if s.settings.translation.uses_translator:
        from core.adapters.azure_translator import AzureTranslator

        return AzureTranslator(s.settings.translation)
    from core.engine.translation import ModelTranslator

    return ModelTranslator(s.chat_model)


def _phrase_cache(s: Services) -> PhraseCache:
    from core.adapters.blob_phrases import BlobPhraseCache

    return BlobPhraseCache(s.settings.storage, s.settings.translation.container, _identity(s))


def _phrases(s: Services) -> PhraseTranslations:
    from core.engine.translation import PhraseTranslations

    settings = s.settings.translation
    return PhraseTranslations(
        lambda: s.phrase_translator,
        lambda: s.phrase_cache,
        timeout_s=settings.timeout_s,
        retry_after_s=settings.retry_after_s,
    )


def _flow(s: Services) -> CallFlow:
    from core.callflow import CallFlow

    return CallFlow(s)


class Services:
    """The worker's ports and services. Readiness checks the storage every invocation depends on."""

    credential = _Lazy(_credential)
    calls = _Lazy(_calls)
    campaign_store = _Lazy(_campaign_store)
    campaigns = _Lazy(_campaigns)
    inbox = _Lazy(_inbox)
    optouts = _Lazy(_optouts)
    queues = _Lazy(_queues)
    telephony = _Lazy(_telephony)
    sms = _Lazy(_sms)
    recordings = _Lazy(_recordings)
    webhook_poster = _Lazy(_webhook_poster)
    chat_model = _Lazy(_chat_model)
    slow_chat_model = _Lazy(_slow_chat_model)
    runtime_config = _Lazy(_runtime_config)
    verifier = _Lazy(_verifier)
    search = _Lazy(_search)
    document_index = _Lazy(_document_index)
    embeddings = _Lazy(_embeddings)
    engine = _Lazy(_engine)
    phrase_translator = _Lazy(_phrase_translator)
    phrase_cache = _Lazy(_phrase_cache)
    phrases = _Lazy(_phrases)
    flow = _Lazy(_flow)

    # What readiness probes, whatever has been built so far: the storage every invocation needs
    # (check name in the report -> port).
    READINESS: ClassVar[dict[str, str]] = {"cosmos": "calls", "inbox_table": "inbox", "queue": "queues"}

    def __init__(self, settings: Settings, **given: Any) -> None:
        from core.observability import LOGGER_NAME
        from core.observability import configure as configure_observability

        unknown = set(given) - {name for name, v in vars(Services).items() if isinstance(v, _Lazy)}
        if unknown:
            raise TypeError(f"Services has no port named {', '.join(sorted(unknown))}")
        self.settings = settings
        self.built: dict[str, Any] = dict(given)
        self._locks: dict[str, threading.RLock] = {}
        self._locks_guard = threading.Lock()
        self._warm_up: asyncio.Task[None] | None = None
        if configure_observability(settings) and settings.applicationinsights_connection_string:
            # Lazily: the distro is heavy and only needed when telemetry leaves the process.
            from core.adapters import azure_monitor

            azure_monitor.configure(settings.applicationinsights_connection_string, LOGGER_NAME)

    async def readiness(self) -> ReadinessReport:
        from core.readiness import check_readiness

        return await check_readiness(
            {check: getattr(self, port).ready for check, port in self.READINESS.items()}
        )

    def lock_for(self, name: str) -> threading.RLock:
        with self._locks_guard:
            return self._locks.setdefault(name, threading.RLock())

    async def ready_engine(self) -> TurnEngine:
        """The engine, without holding up the event loop while the warm-up thread builds it (the
        build's lock would block every other call of the worker meanwhile)."""
        if "engine" in self.built:
            return self.engine
        return await asyncio.to_thread(lambda: self.engine)

    def start_warm_up(self) -> None:
        """Start warming the worker in the background, once per worker (see ``warm_up``). The call flow
        calls it once a greeting has been requested, so the greeting never waits for it."""
        if self._warm_up is None:
            self._warm_up = asyncio.get_running_loop().create_task(self.warm_up())

    async def warm_up(self) -> None:
        """Pay now, while a greeting plays, what a fresh worker's first turn would pay on the caller's
        time: the engine's imports (jinja2, the tools and their definitions), the chat model's SDK and
        clients, the compiled prompt templates. In a thread, so that the event loop keeps serving calls.
        Never raises: what fails here is built again, and reported, by the turn that needs it."""
        try:
            await asyncio.to_thread(self._warm)
        except Exception as exc:  # e.g. no model configured: the turn says so to the caller's call
            log.warning("warming up the worker failed: %s: %s", type(exc).__name__, exc)

    def _warm(self) -> None:
        engine = self.engine
        warm = getattr(engine, "warm_up", None)
        if callable(warm):
            warm()

    async def close(self) -> None:
        """Close every client built so far (once per worker, or at the end of a test)."""
        if self._warm_up is not None:
            await self._warm_up  # never raises; closing under a running build would leak its clients
            self._warm_up = None
        built, self.built = self.built, {}
        closed: set[int] = set()
        # The credential last: the clients above may still hold tokens from it.
        credential = built.pop("credential", None)
        for value in [*built.values(), credential]:
            if value is None:
                continue
            if id(value) in closed:  # the slow model may be the fast one
                continue
            closed.add(id(value))
            close = getattr(value, "close", None)
            if close is not None:
                await close()


@functools.cache
def get_services() -> Services:
    return Services(get_settings())


def reset_services() -> None:
    """Forget the worker's services and settings (tests that change the environment)."""
    get_services.cache_clear()
    get_settings.cache_clear()
