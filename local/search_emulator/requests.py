"""The search request body as the service checks it (SearchRequest of the 2024-07-01 swagger).

The service refuses a body with a parameter the operation does not have, a value of the wrong JSON
type, an enum value it does not know, or ``semanticMaxWaitInMilliseconds`` under 700, with 400 before
it searches; so does the emulator (tests/search/test_swagger_contract.py holds this table to the
vendored swagger in contracts/search/2024-07-01/). Vector queries are checked where they are run.
"""

from __future__ import annotations

from typing import Any

from local.search_emulator.index import SearchRequestError

_STRING, _INTEGER, _NUMBER, _BOOLEAN, _ARRAY = "string", "integer", "number", "boolean", "array"

# Each SearchRequest property: its JSON type and, for enums, the values the service knows. answers and
# captions may carry options after a '|' (``extractive|count-3``): only the part before it is the enum.
PARAMETERS: dict[str, tuple[str, frozenset[str] | None]] = {
    "count": (_BOOLEAN, None),
    "facets": (_ARRAY, None),
    "filter": (_STRING, None),
    "highlight": (_STRING, None),
    "highlightPostTag": (_STRING, None),
    "highlightPreTag": (_STRING, None),
    "minimumCoverage": (_NUMBER, None),
    "orderby": (_STRING, None),
    "queryType": (_STRING, frozenset({"simple", "full", "semantic"})),
    "scoringStatistics": (_STRING, frozenset({"local", "global"})),
    "sessionId": (_STRING, None),
    "scoringParameters": (_ARRAY, None),
    "scoringProfile": (_STRING, None),
    "search": (_STRING, None),
    "searchFields": (_STRING, None),
    "searchMode": (_STRING, frozenset({"any", "all"})),
    "select": (_STRING, None),
    "skip": (_INTEGER, None),
    "top": (_INTEGER, None),
    "semanticConfiguration": (_STRING, None),
    "semanticErrorHandling": (_STRING, frozenset({"partial", "fail"})),
    "semanticMaxWaitInMilliseconds": (_INTEGER, None),
    "semanticQuery": (_STRING, None),
    "answers": (_STRING, frozenset({"none", "extractive"})),
    "captions": (_STRING, frozenset({"none", "extractive"})),
    "vectorQueries": (_ARRAY, None),
    "vectorFilterMode": (_STRING, frozenset({"postFilter", "preFilter"})),
}
MIN_SEMANTIC_WAIT_MS = 700


def _has_type(value: Any, kind: str) -> bool:
    if kind == _BOOLEAN:
        return isinstance(value, bool)
    if kind == _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == _NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == _ARRAY:
        return isinstance(value, list)
    return isinstance(value, str)


def check_search_request(body: Any) -> dict[str, Any]:
    """``body`` when the service would accept it; SearchRequestError (400) naming the first fault."""
    if not isinstance(body, dict):
        raise SearchRequestError("The request is invalid. Details: the search request must be a JSON object.")
    for name, value in body.items():
        if name not in PARAMETERS:
            raise SearchRequestError(
                f"The request is invalid. Details: The parameter '{name}' in the request payload is not "
                "a valid parameter for the operation 'search'."
            )
        if value is None:  # an optional parameter may be null: as if absent
            continue
        kind, allowed = PARAMETERS[name]
        if not _has_type(value, kind):
            raise SearchRequestError(
                f"The request is invalid. Details: parameters : '{name}' must be of type {kind}."
            )
        if allowed is not None and str(value).split("|", 1)[0] not in allowed:
            raise SearchRequestError(
                f"The request is invalid. Details: parameters : '{value}' is not a valid value of "
                f"'{name}' (one of {', '.join(sorted(allowed))})."
            )
    wait = body.get("semanticMaxWaitInMilliseconds")
    if wait is not None and wait < MIN_SEMANTIC_WAIT_MS:
        raise SearchRequestError(
            "The request is invalid. Details: parameters : semanticMaxWaitInMilliseconds must be at "
            f"least {MIN_SEMANTIC_WAIT_MS}."
        )
    return body
