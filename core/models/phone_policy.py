"""Which numbers the product may call, transfer to or text (the toll-fraud guard). Pure.

One rule for every outbound use of a number (POST /call, the agent of a transfer, the SMS tool, the
post-call SMS summary, the verification code of a resumed call):
- the number must be valid (``phonenumbers.is_valid_number``: an assigned range of a real plan, not
  just the right length), so +1 000 000 0000 and too short numbers (+49 110, the police) are refused;
- its region (ISO 3166 code, e.g. US, CA, JM) must be allowed: the calling code is not enough, +1 is
  shared by the US, Canada and the Caribbean (+1 876 Jamaica, +1 809 the Dominican Republic, ...);
- its type must be allowed: premium rate (+1 900, +44 909, +33 899, +34 806), shared cost, UAN,
  voicemail, pager, personal numbers and numbers of unknown type are refused; VoIP numbers too by
  default (they are easy to rent for revenue-share fraud), and toll-free ones are allowed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumberType, shortnumberinfo

# Setting names of the number types (CONVERSATION__ALLOWED_NUMBER_TYPES).
NUMBER_TYPES: dict[str, int] = {
    "fixed_line": PhoneNumberType.FIXED_LINE,
    "mobile": PhoneNumberType.MOBILE,
    "fixed_line_or_mobile": PhoneNumberType.FIXED_LINE_OR_MOBILE,
    "toll_free": PhoneNumberType.TOLL_FREE,
    "voip": PhoneNumberType.VOIP,
    "personal_number": PhoneNumberType.PERSONAL_NUMBER,
    "pager": PhoneNumberType.PAGER,
    "uan": PhoneNumberType.UAN,
    "voicemail": PhoneNumberType.VOICEMAIL,
    "premium_rate": PhoneNumberType.PREMIUM_RATE,
    "shared_cost": PhoneNumberType.SHARED_COST,
}
# Never allowed, whatever the settings say: they cost the company money per minute.
NEVER_ALLOWED = frozenset({"premium_rate", "shared_cost", "uan"})
DEFAULT_TYPES = ("fixed_line", "mobile", "fixed_line_or_mobile", "toll_free")
_TYPE_NAMES = {value: name for name, value in NUMBER_TYPES.items()}


class NumberRefused(ValueError):
    """The number may not be called or texted; the message says why (safe to show: it names the
    number's region and type, never the policy's internals)."""


@dataclass(frozen=True)
class PhonePolicy:
    regions: frozenset[str]
    types: frozenset[str] = frozenset(DEFAULT_TYPES)

    def check(self, number: str) -> str:
        """The number in E.164 if it may be called or texted, else NumberRefused saying why."""
        candidate = number.strip()
        if not candidate.startswith("+"):
            raise NumberRefused(f"'{candidate[:32]}' is not in E.164 format (+ and a country code)")
        try:
            parsed = phonenumbers.parse(candidate, None)
        except phonenumbers.NumberParseException:
            raise NumberRefused(f"'{candidate[:32]}' is not a phone number") from None
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        region = phonenumbers.region_code_for_number(parsed) or ""
        if shortnumberinfo.is_emergency_number(
            phonenumbers.national_significant_number(parsed), region or "ZZ"
        ):
            raise NumberRefused(f"{e164} is an emergency number")
        if not phonenumbers.is_valid_number(parsed):
            raise NumberRefused(f"{e164} is not a valid number (no such range in its numbering plan)")
        if region not in self.regions:
            listed = ", ".join(sorted(self.regions))
            raise NumberRefused(f"{e164} is in region {region}, which is not allowed (allowed: {listed})")
        kind = _TYPE_NAMES.get(phonenumbers.number_type(parsed), "unknown")
        if kind not in self.types or kind in NEVER_ALLOWED:
            raise NumberRefused(f"{e164} is a {kind.replace('_', ' ')} number, which is not allowed")
        return e164

    def allows(self, number: str) -> bool:
        try:
            self.check(number)
        except NumberRefused:
            return False
        return True


def parse_regions(raw: str) -> frozenset[str]:
    """``US,CA,FR`` as region codes, or ValueError naming the unknown one."""
    regions: set[str] = set()
    supported = phonenumbers.SUPPORTED_REGIONS
    for item in raw.split(","):
        code = item.strip().upper()
        if code not in supported:
            shown = f"'{code[:8]}' is not a region code (ISO 3166, e.g. US)" if code else "an item is empty"
            raise ValueError(f"'{raw[:60]}' is not a list of regions: {shown}")
        regions.add(code)
    return frozenset(regions)


def parse_types(raw: str) -> frozenset[str]:
    """``fixed_line,mobile`` as number types, or ValueError naming the wrong one."""
    types: set[str] = set()
    for item in raw.split(","):
        name = item.strip().lower()
        if name not in NUMBER_TYPES:
            raise ValueError(f"'{name[:30]}' is not a number type (one of {', '.join(NUMBER_TYPES)})")
        if name in NEVER_ALLOWED:
            raise ValueError(f"'{name}' numbers can never be allowed (toll fraud)")
        types.add(name)
    return frozenset(types)


def regions_of_country_codes(codes: frozenset[int]) -> frozenset[str]:
    """The regions of calling codes (the deprecated CONVERSATION__ALLOWED_COUNTRY_CODES): the main
    region of each code only (+1: the US, +44: GB), since a code is shared by several regions and the
    others are where the fraud happens (+1 876 Jamaica, +1 809 the Dominican Republic, ...)."""
    return frozenset(phonenumbers.region_code_for_country_code(code) for code in codes) - {"ZZ", "001"}


_COUNTRY_CODE = re.compile(r"^\+?([0-9]{1,3})$")


@functools.lru_cache(maxsize=8)
def parse_country_codes(raw: str) -> frozenset[int]:
    """``1,33,44`` as country calling codes, or ValueError saying which item is wrong."""
    shape = f"'{raw[:60]}' is not a list of country calling codes (comma-separated, e.g. 1,33,44)"
    codes: set[int] = set()
    for item in raw.split(","):
        match = _COUNTRY_CODE.match(item.strip())
        if match is None:
            raise ValueError(f"{shape}: '{item.strip()[:20]}' is not a number of 1 to 3 digits")
        code = int(match.group(1))
        if phonenumbers.region_code_for_country_code(code) == "ZZ":
            raise ValueError(f"{shape}: +{code} is not assigned to any country")
        codes.add(code)
    return frozenset(codes)


@functools.lru_cache(maxsize=8)
def build_policy(regions: str, country_codes: str, types: str) -> PhonePolicy:
    """The policy of the settings (their env strings; the deprecated country codes win if set)."""
    allowed = (
        regions_of_country_codes(parse_country_codes(country_codes))
        if country_codes.strip()
        else parse_regions(regions)
    )
    return PhonePolicy(regions=allowed, types=parse_types(types))


def parse_setting(name: str, value: str) -> str:
    """Check one of the policy's settings (by field name), or ValueError saying what is wrong."""
    if name == "allowed_regions":
        parse_regions(value)
    elif name == "allowed_number_types":
        parse_types(value)
    elif value.strip():  # the deprecated country codes: empty unless set
        parse_country_codes(value)
    return value


def check_settings(country_codes: str, regions_given: bool, policy: PhonePolicy, agent: str) -> None:
    """The settings together: one way to give regions, and a configured agent the policy allows."""
    if country_codes.strip() and regions_given:
        raise ValueError(
            "CONVERSATION__ALLOWED_COUNTRY_CODES is deprecated and cannot be combined with "
            "CONVERSATION__ALLOWED_REGIONS: keep ALLOWED_REGIONS only"
        )
    try:
        policy.check(agent)
    except NumberRefused as exc:
        raise ValueError(f"CONVERSATION__AGENT_PHONE_NUMBER: {exc}") from None
