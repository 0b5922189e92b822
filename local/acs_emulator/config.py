"""Configuration of the emulator."""

from __future__ import annotations

from dataclasses import dataclass, field

# Same value as core.settings.ACS_EMULATOR_KEY (copied on purpose: the emulator never imports core).
DEFAULT_ACCESS_KEY = "bG9jYWwtYWNzLWVtdWxhdG9yLWFjY2Vzcy1rZXktbm90LWEtc2VjcmV0LTAwMDA="
DEFAULT_JWT_ISSUER = "https://acscallautomation.communication.azure.com"
DEFAULT_JWT_AUDIENCE = "00000000-0000-0000-0000-000000000acs"
DEFAULT_BOT_NUMBER = "+15550100000"
DEFAULT_PORT = 8090


@dataclass
class EmulatorConfig:
    """What the emulator is started with.

    ``speed_factor`` scales every simulated duration (speech, silence, ringing): 1.0 is real time,
    0 makes everything instant (still asynchronous and in order). ``duplicate_callbacks`` sends every
    callback twice; ``out_of_order_callbacks`` swaps adjacent callbacks of a call;
    ``concurrent_callbacks`` delivers them all at once, in no order.
    """

    access_key: str = DEFAULT_ACCESS_KEY
    jwt_issuer: str = DEFAULT_JWT_ISSUER
    jwt_audience: str = DEFAULT_JWT_AUDIENCE
    eventgrid_endpoint: str | None = None
    speed_factor: float = 0.0
    duplicate_callbacks: bool = False
    out_of_order_callbacks: bool = False
    # Deliver each callback of a call without waiting for the previous one (as ACS may, on two
    # instances): unordered and overlapping.
    concurrent_callbacks: bool = False
    bot_phone_number: str = DEFAULT_BOT_NUMBER
    # Delays (seconds, real time) between delivery attempts of a failing callback or Event Grid event;
    # one attempt more than there are delays.
    retry_delays_s: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
    # Timeout of one callback POST.
    callback_timeout_s: float = 10.0
    # A caller whose script has run out hangs up when the bot has been silent this long (real time).
    exhausted_script_hangup_s: float = 2.0
    # Extra numbers owned by the resource (may send SMS / be used as caller id).
    extra_owned_numbers: list[str] = field(default_factory=list)
    # An incomingCallContext older than this (seconds, real time) is refused on answer: ACS's contexts
    # expire when the ring is over.
    incoming_context_ttl_s: float = 30.0
    # Event Grid endpoint of RecordingFileStatusUpdated (a subscription of its own, as in Azure).
    recording_eventgrid_endpoint: str | None = None
    # Event Grid endpoint of SMSReceived (texts to the resource's numbers; local.acs_emulator.sms_inbound).
    sms_eventgrid_endpoint: str | None = None
    # How long after the end of a recording its file is announced (simulated seconds; ACS: minutes).
    recording_file_delay_s: float = 0.0
    # ACS resource name used in Event Grid topics.
    resource_name: str = "acs-emulator"
    # Whether the ACS resource's managed identity may use the AI Services account a call names (the
    # "Cognitive Services User" role): when False, text-to-speech and speech recognition of calls set
    # up with an endpoint fail with PlayFailed/RecognizeFailed 401/8565, as ACS reports it.
    cognitive_services_authorized: bool = True

    @property
    def owned_numbers(self) -> set[str]:
        return {self.bot_phone_number, *self.extra_owned_numbers}
