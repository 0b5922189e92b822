"""The phrase book: fixed phrases the bot says without the model, per language, several variants each,
and the overrides a company configures (parsed and checked here, so the settings can refuse bad ones
at start-up without depending on the engine).

Override any of them, and the system prompt (``"system"``, see :mod:`core.engine.prompts`), with
``CONVERSATION__PROMPTS_OVERRIDE_JSON``, a JSON object from phrase name to one of:

- ``"Hi!"`` or ``["Hi!", "Hello!"]``: the variants for every language;
- ``{"en-US": ["Hi!", ...], "fr": "Salut !", "*": "..."}``: per language code, base language (``fr``:
  any French) or ``*`` (any other language); a value is a string or a list of strings.

An override that fits the call's language (exact, then same base language, then ``*``) wins over the
built-in phrases; a language with neither is translated once from English (core.engine.translation),
else falls back to English. Invalid overrides stop start-up
(:func:`parse_overrides` says what is wrong). Placeholders: ``{bot_name}``, ``{bot_company}`` (from the call, else the settings) and any keyword given
to :func:`phrase` (e.g. ``{languages}`` for the language choice prompt). Unknown placeholders stay as is.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.models import Call

PhraseTable = dict[str, dict[str, list[str]]]

DEFAULT_LANGUAGE = "en-US"

PHRASES: PhraseTable = {
    "greeting": {
        "en-US": [
            "Hello, I'm {bot_name} from {bot_company}. How can I help you today?",
            "Hi, this is {bot_name}, the assistant of {bot_company}. What can I do for you?",
            "Good day, {bot_name} from {bot_company} speaking. How may I help you?",
        ],
        "fr-FR": [
            "Bonjour, je suis {bot_name} de {bot_company}. Comment puis-je vous aider ?",
            "Bonjour, ici {bot_name}, l'assistante de {bot_company}. Que puis-je faire pour vous ?",
            "Bonjour, {bot_name} de {bot_company} à l'appareil. En quoi puis-je vous aider ?",
        ],
        "es-ES": [
            "Hola, soy {bot_name} de {bot_company}. ¿En qué puedo ayudarle hoy?",
            "Hola, le habla {bot_name}, la asistente de {bot_company}. ¿Qué puedo hacer por usted?",
            "Buenos días, soy {bot_name} de {bot_company}. ¿Cómo puedo ayudarle?",
        ],
    },
    "welcome_back": {
        "en-US": [
            "Welcome back, it's {bot_name} from {bot_company} again. Let's continue where we left off.",
            "Hello again, {bot_name} here. I still have your file open; how can I help?",
        ],
        "fr-FR": [
            "Rebonjour, c'est encore {bot_name} de {bot_company}. Reprenons où nous en étions.",
            "Ravie de vous retrouver, ici {bot_name}. J'ai toujours votre dossier, que puis-je faire ?",
        ],
        "es-ES": [
            "Bienvenido de nuevo, soy {bot_name} de {bot_company}. Sigamos donde lo dejamos.",
            "Hola de nuevo, le habla {bot_name}. Tengo su expediente abierto, ¿en qué le ayudo?",
        ],
    },
    "goodbye": {
        "en-US": [
            "Thank you for calling {bot_company}. Goodbye and take care!",
            "It was a pleasure to help you. Have a good day, goodbye!",
        ],
        "fr-FR": [
            "Merci d'avoir appelé {bot_company}. Au revoir et bonne journée !",
            "Ce fut un plaisir de vous aider. Bonne journée, au revoir !",
        ],
        "es-ES": [
            "Gracias por llamar a {bot_company}. ¡Adiós y que le vaya bien!",
            "Ha sido un placer ayudarle. ¡Que tenga un buen día, adiós!",
        ],
    },
    "silence": {
        "en-US": ["Are you still there?", "I can't hear you. Could you say that again?"],
        "fr-FR": ["Êtes-vous toujours là ?", "Je ne vous entends pas. Pouvez-vous répéter ?"],
        "es-ES": ["¿Sigue ahí?", "No le oigo. ¿Podría repetirlo?"],
    },
    "error": {
        "en-US": [
            "I'm sorry, I had a problem understanding. Could you repeat that, please?",
            "Sorry, something went wrong on my side. Could you say that again?",
        ],
        "fr-FR": [
            "Je suis désolée, j'ai eu un problème. Pouvez-vous répéter, s'il vous plaît ?",
            "Pardon, quelque chose n'a pas fonctionné de mon côté. Pouvez-vous répéter ?",
        ],
        "es-ES": [
            "Lo siento, he tenido un problema. ¿Podría repetirlo, por favor?",
            "Perdone, algo ha fallado por mi parte. ¿Puede repetirlo?",
        ],
    },
    "filler": {
        "en-US": ["Let me check.", "One moment, please.", "Let me see."],
        "fr-FR": ["Je regarde.", "Un instant, s'il vous plaît.", "Voyons voir."],
        "es-ES": ["Déjeme comprobarlo.", "Un momento, por favor.", "Veamos."],
    },
    "transfer": {
        "en-US": [
            "I'm transferring you to a colleague now. Please stay on the line.",
            "Let me put you through to one of my colleagues. One moment, please.",
        ],
        "fr-FR": [
            "Je vous transfère à un collègue. Restez en ligne, s'il vous plaît.",
            "Je vous passe l'un de mes collègues. Un instant, s'il vous plaît.",
        ],
        "es-ES": [
            "Le paso con un compañero. Por favor, no cuelgue.",
            "Le transfiero a uno de mis compañeros. Un momento, por favor.",
        ],
    },
    "transfer_failed": {
        "en-US": [
            "I'm sorry, nobody is available right now. Let's continue together.",
            "My colleagues can't take the call at the moment. I'll keep helping you.",
        ],
        "fr-FR": [
            "Je suis désolée, personne n'est disponible pour le moment. Continuons ensemble.",
            "Mes collègues ne peuvent pas répondre pour l'instant. Je continue à vous aider.",
        ],
        "es-ES": [
            "Lo siento, ahora mismo no hay nadie disponible. Sigamos juntos.",
            "Mis compañeros no pueden atender ahora. Le sigo ayudando yo.",
        ],
    },
    "language_default": {
        "en-US": ["Let's go on in {language_name}. How can I help you today?"],
        "fr-FR": ["Continuons en {language_name}. Comment puis-je vous aider ?"],
        "es-ES": ["Sigamos en {language_name}. ¿En qué puedo ayudarle?"],
    },
    "language_choice": {
        "en-US": ["Which language would you like to speak: {languages}?"],
        "fr-FR": ["Dans quelle langue souhaitez-vous parler : {languages} ?"],
        "es-ES": ["¿En qué idioma desea hablar: {languages}?"],
    },
    "refusal": {
        "en-US": [
            "I'm sorry, I can't help with that. Is there something else about your request I can do?",
            "I can't respond to that, sorry. Let's get back to your request.",
        ],
        "fr-FR": [
            "Je suis désolée, je ne peux pas vous aider sur ce point. Puis-je faire autre chose pour vous ?",
            "Je ne peux pas répondre à cela, désolée. Revenons à votre demande.",
        ],
        "es-ES": [
            "Lo siento, no puedo ayudarle con eso. ¿Puedo hacer algo más por usted?",
            "No puedo responder a eso, lo siento. Volvamos a su solicitud.",
        ],
    },
}

PHRASE_NAMES = tuple(PHRASES)

# Phrases translated from English for languages with no built-in set (core.engine.translation fills it
# in this worker's memory before a call speaks): name -> language code -> variants.
TRANSLATED: PhraseTable = {}


def has_builtin(language: str) -> bool:
    """Whether the phrase book has its own phrases for this language (exact or same base language)."""
    return _lookup(PHRASES, "greeting", language) is not None or (
        _lookup(PHRASES, "greeting", language.split("-")[0].lower()) is not None
    )


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


SYSTEM = "system"
OVERRIDE_NAMES = (*PHRASE_NAMES, SYSTEM)
ANY_LANGUAGE = "*"
_LANGUAGE_KEY = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def _variant_list(where: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
        raise ValueError(f"{where}: expected a non-empty string or a non-empty list of non-empty strings")
    return list(items)


# What the system prompt template gets (core.engine.prompts renders it with exactly these).
TEMPLATE_VARIABLES = frozenset(
    {
        "bot_name",
        "bot_company",
        "task",
        "now",
        "today",
        "timezone",
        "language",
        "languages",
        "claim_fields",
        "missing",
        "reminders",
        "speech_speed",
        "styles",
    }
)


@functools.cache
def template_environment() -> Any:
    """The jinja2 environment of system prompt templates: plain text, strict about variables."""
    import jinja2

    return jinja2.Environment(
        autoescape=False,  # noqa: S701 - prompt text for a model, not HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=False,
    )


def check_template(source: str) -> None:
    """Raise ValueError when a system prompt template would fail on every call: it does not parse, or
    it uses a variable the template does not get (StrictUndefined raises on it at render)."""
    import jinja2
    import jinja2.meta

    try:
        tree = template_environment().parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"not a valid jinja2 template: {exc.message} (line {exc.lineno})") from None
    unknown = jinja2.meta.find_undeclared_variables(tree) - TEMPLATE_VARIABLES
    if unknown:
        raise ValueError(
            f"unknown template variable(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(TEMPLATE_VARIABLES))})"
        )


def _check_system(where: str, templates: list[str]) -> None:
    if len(templates) != 1:
        raise ValueError(f"{where}: one system prompt template, not a list of {len(templates)}")
    try:
        check_template(templates[0])
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


@functools.lru_cache(maxsize=8)
def parse_overrides(raw: str) -> PhraseTable:
    """Parse the overrides JSON (every form of the module docstring) into name -> language -> variants,
    or raise ValueError saying what is wrong and where."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object of phrase names ({', '.join(OVERRIDE_NAMES)}) to overrides")
    table: PhraseTable = {}
    for name, value in data.items():
        if name not in OVERRIDE_NAMES:
            raise ValueError(f"'{name[:40]}' is not a phrase name (known: {', '.join(OVERRIDE_NAMES)})")
        if isinstance(value, dict):
            if not value:
                raise ValueError(f"{name}: expected at least one language")
            per_language: dict[str, list[str]] = {}
            for language, variants_ in value.items():
                if language != ANY_LANGUAGE and not _LANGUAGE_KEY.match(language):
                    raise ValueError(
                        f"{name}: '{language[:20]}' is not a language code like en-US, a base language "
                        f"like en, or {ANY_LANGUAGE}"
                    )
                per_language[language] = _variant_list(f"{name}.{language}", variants_)
        else:
            per_language = {ANY_LANGUAGE: _variant_list(name, value)}
        if name == SYSTEM:
            for language, templates in per_language.items():
                _check_system(f"{name}.{language}", templates)
        table[name] = per_language
    return table


def _lookup(table: Mapping[str, Mapping[str, list[str]]], name: str, candidate: str) -> list[str] | None:
    per_language = table.get(name, {})
    if candidate in per_language:
        return list(per_language[candidate])
    if "-" not in candidate:
        for code, found in per_language.items():
            if code.split("-")[0].lower() == candidate:
                return list(found)
    return None


def override_for(
    overrides: Mapping[str, Mapping[str, list[str]]] | None, name: str, language: str
) -> list[str] | None:
    """The overridden variants of `name` that fit `language` (exact, same base language, ``*``)."""
    for candidate in (language, language.split("-")[0].lower(), ANY_LANGUAGE):
        found = _lookup(overrides or {}, name, candidate)
        if found is not None:
            return found
    return None


def variants(
    name: str, language: str, overrides: Mapping[str, Mapping[str, list[str]]] | None = None
) -> list[str]:
    """The variants of a phrase for a language: an override that fits it (:func:`override_for`), then
    the built-in one (exact, same base language), then its translation from English (:data:`TRANSLATED`),
    then English."""
    overridden = override_for(overrides, name, language)
    if overridden is not None:
        return overridden
    base = language.split("-")[0].lower()
    overrides = overrides or {}
    for table, candidates in (
        (PHRASES, (language, base)),
        (TRANSLATED, (language,)),
        (overrides, (DEFAULT_LANGUAGE,)),
        (PHRASES, (DEFAULT_LANGUAGE,)),
    ):
        for candidate in candidates:
            found = _lookup(table, name, candidate)
            if found is not None:
                return found
    if name not in PHRASES and name not in overrides:
        raise KeyError(f"unknown phrase '{name}' (known: {', '.join(PHRASE_NAMES)})")
    return [""]


def render_phrase(
    name: str,
    language: str,
    *,
    call: Call | None = None,
    bot_name: str = "",
    bot_company: str = "",
    overrides: Mapping[str, Mapping[str, list[str]]] | None = None,
    seed: str | None = None,
    **fmt: Any,
) -> str:
    options = variants(name, language, overrides)
    if seed is not None:
        digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
        text = options[digest[0] % len(options)]
    else:
        text = random.choice(options)
    values = _Keep(fmt)
    values.setdefault("bot_name", call.initiate.bot_name if call else bot_name)
    values.setdefault("bot_company", call.initiate.bot_company if call else bot_company)
    try:
        return text.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return text
