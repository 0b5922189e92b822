"""The worker's call flow, built once from the container (clients are shared by every invocation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.callflow.flow import CallFlow, TurnRunner
    from core.container import Container

_KEY = "callflow"


def build_flow(container: Container) -> CallFlow:
    from core.adapters.acs_telephony import AcsTelephony
    from core.callflow.auth import CallbackAuthenticator
    from core.callflow.flow import CallFlow, FlowDeps

    settings = container.settings
    telephony = container.extras.get("telephony")
    if telephony is None:
        telephony = container.extras["telephony"] = AcsTelephony(settings.acs)

    def engine() -> TurnRunner:
        found: Any = container.extras.get("engine")
        if found is None:
            from core.engine import LlmClient, TurnEngine

            llm = container.extras.get("llm")
            if llm is None:  # raises LlmNotConfiguredError, naming the settings
                llm = container.extras["llm"] = LlmClient.from_settings(settings.llm)
            from core.messaging.sms_sender import get_sms_sender

            found = container.extras["engine"] = TurnEngine(settings, llm, sms=get_sms_sender(container))
        return found  # type: ignore[no-any-return]

    return CallFlow(
        FlowDeps(
            settings=settings,
            calls=container.calls,
            inbox=container.inbox,
            queues=container.queues,
            telephony=telephony,
            authenticator=CallbackAuthenticator(settings.acs),
            engine=engine,
        )
    )


def get_flow() -> CallFlow:
    from core.container import get_container

    container = get_container()
    flow = container.extras.get(_KEY)
    if flow is None:
        flow = container.extras[_KEY] = build_flow(container)
    return flow  # type: ignore[no-any-return]
