"""Who may resume a case (issue 11, item 6). Pure.

Caller ID can be spoofed, so a call from the number of a finished case within the callback window does
not resume it outright (CONVERSATION__RESUME_VERIFICATION chooses):
- ``none``: it resumes (the behaviour before this setting; for deployments that trust caller ID);
- ``policy_number`` / ``date_of_birth``: the caller must say the value of that claim field of the case;
- ``sms_code``: the caller must say a 6-digit code texted to the number when the call is answered.
The new call starts as a new case holding the earlier case's claim, reminders and history back
(``Call.connection.held_case``, never published nor shown to the model). The bot's first question asks for
the answer; the caller's first words are checked in code (the model never sees the expected value)
and only on a match are the held claim and history loaded into the conversation. Any other answer, or
a case without that field, makes it a new case for good. A connected call is never resumed at all.
"""

from __future__ import annotations

import re
import secrets
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ResumeCheck(StrEnum):
    NONE = "none"
    POLICY_NUMBER = "policy_number"
    DATE_OF_BIRTH = "date_of_birth"
    SMS_CODE = "sms_code"


class PendingResume(BaseModel):
    """An earlier case this call may resume, held back until the caller proves who they are."""

    case_id: str
    check: ResumeCheck
    expected: str = Field(description="The normalized answer (letters and digits, lowercase)")
    # The earlier case's claim, reminders and messages (as stored: core.models.call imports this module).
    claim: dict[str, Any] = Field(default_factory=dict)
    reminders: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[dict[str, Any]] = Field(default_factory=list)
    resumed_count: int = 0


# The bot's first question, by language prefix (English otherwise).
QUESTIONS: dict[ResumeCheck, dict[str, str]] = {
    ResumeCheck.POLICY_NUMBER: {
        "en": "Welcome back. To continue your earlier case, please tell me your policy number.",
        "fr": "Bon retour. Pour reprendre votre dossier, pouvez-vous me donner votre numéro de contrat ?",
        "es": "Bienvenido de nuevo. Para continuar su caso, dígame su número de póliza.",
    },
    ResumeCheck.DATE_OF_BIRTH: {
        "en": "Welcome back. To continue your earlier case, please tell me your date of birth, in digits.",
        "fr": "Bon retour. Pour reprendre votre dossier, quelle est votre date de naissance, en chiffres ?",
        "es": "Bienvenido de nuevo. Para continuar su caso, dígame su fecha de nacimiento, en cifras.",
    },
    ResumeCheck.SMS_CODE: {
        "en": "Welcome back. To continue your earlier case, please read me the code we just texted you.",
        "fr": "Bon retour. Pour reprendre votre dossier, lisez-moi le code que nous venons de vous envoyer.",
        "es": "Bienvenido de nuevo. Para continuar su caso, léame el código que le acabamos de enviar.",
    },
}
VERIFIED = {
    "en": "Thank you, I found your case. Let's continue where we left off.",
    "fr": "Merci, j'ai retrouvé votre dossier. Reprenons où nous en étions.",
    "es": "Gracias, encontré su caso. Continuemos donde lo dejamos.",
}
NOT_VERIFIED = {
    "en": "I could not confirm that, so let's open a new case. How can I help you?",
    "fr": "Je n'ai pas pu le confirmer, ouvrons donc un nouveau dossier. Comment puis-je vous aider ?",
    "es": "No pude confirmarlo, así que abriremos un caso nuevo. ¿En qué puedo ayudarle?",
}
SMS_TEXT = "Your code to continue your case: {code}. If you did not call us, ignore this message."


def localized(texts: dict[str, str], language: str) -> str:
    return texts.get(language.split("-")[0].lower(), texts["en"])


def normalize(text: str) -> str:
    return re.sub(r"[\W_]+", "", text).casefold()


def expected_answer(check: ResumeCheck, claim: dict[str, Any]) -> str | None:
    """The normalized value the caller must give, or None when the case has none (a new case)."""
    if check is ResumeCheck.SMS_CODE:
        return f"{secrets.randbelow(1_000_000):06d}"
    value = claim.get(check.value)
    expected = normalize(str(value)) if value not in (None, "") else ""
    return expected if len(expected) >= 4 else None  # too short to tell anyone apart


def _date_forms(iso: str) -> set[str]:
    """2026-03-04 said as 20260304, 04032026 or 03042026 (digits only)."""
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", iso)
    if match is None:
        return {iso}
    year, month, day = match.groups()
    return {year + month + day, day + month + year, month + day + year}


def answer_matches(pending: PendingResume, answer: str) -> bool:
    said = normalize(answer)
    if pending.check is ResumeCheck.DATE_OF_BIRTH:
        digits = re.sub(r"\D", "", answer)
        return any(form in digits for form in _date_forms(pending.expected))
    if pending.check is ResumeCheck.SMS_CODE:
        return pending.expected in re.sub(r"\D", "", answer)
    return pending.expected in said
