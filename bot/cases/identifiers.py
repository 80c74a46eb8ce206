"""Likely patient identifiers in a case note: which class, where, and a hint for the member.

Pure: the standard library and `phonenumbers`; no storage, no Discord.

The classes are the HIPAA Safe Harbor identifiers that can be recognised in running
text. The check prompts the member before they confirm; it cannot promise a note is
clean, so each detector leans towards flagging what is shaped like an identifier and
away from the numbers clinical writing is full of (blood pressures, doses, scores,
fractions, times). One small detector per class keeps each rule readable and testable
alone; `find_identifiers` merges them.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatch, PhoneNumberMatcher


class IdentifierClass(StrEnum):
    NAME = "name after a title"
    DATE = "date"
    AGE = "age over 89"
    PHONE = "phone or fax number"
    EMAIL = "email address"
    URL = "web address"
    POSTCODE = "postcode or ZIP code"
    ADDRESS = "street address"
    NHS_NUMBER = "NHS number"
    RECORD_NUMBER = "record or insurance number"
    IP_ADDRESS = "IP address"


HINTS: Mapping[IdentifierClass, str] = MappingProxyType(
    {
        IdentifierClass.NAME: (
            "a name after a title: use a role instead, such as 'a woman in her sixties', "
            "'her son' or 'the consultant'"
        ),
        IdentifierClass.DATE: (
            "a full date: say 'last spring' or 'some years ago'; instead of a date of "
            "birth, give an age range"
        ),
        IdentifierClass.AGE: (
            "an age over 89: say 'very elderly' or 'over 90'; even 'in her nineties' "
            "narrows it down"
        ),
        IdentifierClass.PHONE: "a phone or fax number: leave it out; the group does not need it",
        IdentifierClass.EMAIL: "an email address: leave it out",
        IdentifierClass.URL: (
            "a web address: leave it out, or describe it ('a local support forum')"
        ),
        IdentifierClass.POSTCODE: (
            "a postcode or ZIP code: say only the kind of place, 'a northern city' or "
            "'a small town'"
        ),
        IdentifierClass.ADDRESS: (
            "a street address: say 'at home' or 'in a flat near the practice'"
        ),
        IdentifierClass.NHS_NUMBER: "an NHS number: leave it out",
        IdentifierClass.RECORD_NUMBER: (
            "a record, insurance or National Insurance number: leave it out"
        ),
        IdentifierClass.IP_ADDRESS: "an IP address: leave it out",
    }
)


@dataclass(frozen=True)
class Finding:
    kind: IdentifierClass
    start: int
    end: int

    @property
    def hint(self) -> str:
        return HINTS[self.kind]


def find_identifiers(text: str) -> list[Finding]:
    """The likely identifiers in `text`, sorted by start and never overlapping."""
    candidates = [finding for detect in _DETECTORS for finding in detect(text)]
    return _resolve(candidates)


# --- merging -----------------------------------------------------------------------

# When two candidates cover the same span, the more specific reading wins: a valid
# NHS number is also a possible US phone number, an MRN may be phone-shaped.
_SPECIFICITY = (
    IdentifierClass.NHS_NUMBER,
    IdentifierClass.RECORD_NUMBER,
    IdentifierClass.EMAIL,
    IdentifierClass.IP_ADDRESS,
    IdentifierClass.URL,
    IdentifierClass.DATE,
    IdentifierClass.PHONE,
    IdentifierClass.POSTCODE,
    IdentifierClass.ADDRESS,
    IdentifierClass.AGE,
    IdentifierClass.NAME,
)
_RANK = {kind: rank for rank, kind in enumerate(_SPECIFICITY)}


def _resolve(candidates: Iterable[Finding]) -> list[Finding]:
    # Longest first, so a whole email beats the domain inside it; then specificity.
    ordered = sorted(candidates, key=lambda f: (f.start - f.end, _RANK[f.kind], f.start))
    chosen: list[Finding] = []
    for finding in ordered:
        if finding.end <= finding.start:
            continue
        if all(finding.end <= kept.start or finding.start >= kept.end for kept in chosen):
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)


def _found(
    kind: IdentifierClass, matches: Iterable[re.Match[str]], group: int | str = 0
) -> Iterator[Finding]:
    for match in matches:
        yield Finding(kind, match.start(group), match.end(group))


# --- names after titles ------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# Only these casings: "MS" and "MR" are multiple sclerosis and mitral regurgitation.
_TITLES = (
    "Mrs|mrs|Mr|mr|Ms|Mx|Miss|Dr|dr|Doctor|Professor|Prof|prof|Sister|Nurse|Matron"
    "|Sir|Dame|Father|Revd|Rev|Reverend|Rabbi|Imam|Pastor"
)
_TITLE = re.compile(rf"\b(?:{_TITLES})(?:\.[ \t]*|[ \t]+)")
_NAME_WORD = (
    rf"(?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?"
    rf"(?:[-'’][{_UPPER}][{_LOWER}]+)*"
    rf"|[{_UPPER}]{{3,}}(?:-[{_UPPER}]{{2,}})?"
)
_PARTICLES = "van|von|de|da|di|du|del|della|der|den|la|le|al|el|bin|ben|ter|ten|st"
_FIRST_NAME = re.compile(
    rf"(?:[{_UPPER}]\.?[ \t]+){{0,3}}(?:(?:{_PARTICLES})[ \t]+){{0,2}}"
    rf"(?P<word>{_NAME_WORD})(?![{_UPPER}{_LOWER}\d])"
)
_MORE_NAME = re.compile(rf"[ \t]+(?P<word>{_NAME_WORD})(?![{_UPPER}{_LOWER}\d])")
# Capitalised words that follow a title without being a name: "Dr Appointment",
# "the Mr Men books", "Nurse Practitioner", and sentence starters after "Mr A."
_NOT_NAMES = frozenset(
    """
    Men Who Appointment Appointments Practitioner Practitioners Specialist Specialists
    Led Prescriber Consultant Team Office Surgery Clinic Note Notes Letter Letters
    Review Referral Visit Visits Round Rounds Appt Appts Dept Dev Christmas Google Right
    Motivator Whippy
    On In At To Of For With From By And Or But So Then Than That This These Those There
    The A An He She They It We You I His Her Their Its Our Your Him Them Is Was Were Are
    Has Had Have Told Asked Thought Felt Came Went Saw Seen When While After
    Before Since Because If Not No Yes Also Again Today Tomorrow Yesterday Tonight
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday NHS GP GPs ENT ICU ITU MDT
    CCU HDU AMU SHO SPR ECG EEG MRI CT COPD CKD IHD TIA CVA UTI
    """.split()  # noqa: SIM905 - a list of words reads best as words
)


def _names(text: str) -> Iterator[Finding]:
    for title in _TITLE.finditer(text):
        first = _FIRST_NAME.match(text, title.end())
        if first is None or first["word"] in _NOT_NAMES:
            continue
        end = first.end()
        for _ in range(2):  # "Dr Sarah Jane O'Neill": at most three names
            more = _MORE_NAME.match(text, end)
            if more is None or more["word"] in _NOT_NAMES:
                break
            end = more.end()
        yield Finding(IdentifierClass.NAME, title.start(), end)


# --- dates -------------------------------------------------------------------------

_MONTH_NUMBERS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = (
    "(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    "|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_ORDINAL = "(?:st|nd|rd|th)?"
# Three numeric parts only: two parts ("6/12", "140/90", "14/15") are clinical shorthand.
_NUMERIC_DATE = re.compile(
    r"(?<![\w./-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    r"(?![\w/-])(?!\.\d)"
)
# An ISO date may carry a time ("2023-11-05T14:30").
_ISO_DATE = re.compile(
    r"(?<![\w./-])(?P<year>(?:18|19|20|21)\d\d)(?P<sep>[/.-])(?P<a>\d{1,2})(?P=sep)(?P<b>\d{1,2})"
    r"(?!(?!T\d)[\w/-])(?!\.\d)"
)
_DAY_MONTH_YEAR = re.compile(
    rf"(?i)(?=\d)\b(?P<day>\d{{1,2}}){_ORDINAL}(?:\s+of)?[\s-]+(?P<month>{_MONTH})\.?,?[\s-]+"
    r"(?P<year>\d{4}|'?\d\d)(?!\w)"
)
_MONTH_DAY_YEAR = re.compile(
    rf"(?i)(?=[adfjmnos])\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}){_ORDINAL},?\s+"
    r"(?P<year>\d{4})(?!\w)"
)
# A day and month without a year is still a date of an encounter; capitals are required
# so "may" the verb stays out.
_DAY_MONTH = re.compile(
    rf"(?=\d)\b(?P<day>\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+(?P<month>{_MONTH})\b(?!\.?\s*'?\d)"
)
_MONTH_DAY = re.compile(
    rf"(?=[ADFJMNOS])\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}}){_ORDINAL}(?![\w:.,]?\d)"
)
# After "DOB" or "born", a partial date (month and year) is a birth date too.
_BIRTH_PARTIAL = re.compile(
    rf"(?i)(?=[bd])\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth|birth\s*date|born(?:\s+on|\s+in)?)"
    rf"\s*[:\-]?\s*(?P<value>\d{{1,2}}[/.-](?:\d{{4}}|\d\d)(?![\w/.-]?\d)|\d{{8}}(?!\d)"
    rf"|{_MONTH}\.?,?\s+\d{{4}}(?!\d))"
)


def _is_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _full_year(year: str) -> int:
    # The century does not matter for validity, only for 29 February.
    return int(year) if len(year) == 4 else 2000 + int(year)


def _numeric_dates(text: str) -> Iterator[Finding]:
    for pattern in (_NUMERIC_DATE, _ISO_DATE):
        for match in pattern.finditer(text):
            year, a, b = _full_year(match["year"]), int(match["a"]), int(match["b"])
            # Day first (British) or month first (American): either reading will do.
            if _is_date(year, b, a) or _is_date(year, a, b):
                yield Finding(IdentifierClass.DATE, match.start(), match.end())


def _worded_dates(text: str) -> Iterator[Finding]:
    for pattern in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR, _DAY_MONTH, _MONTH_DAY):
        for match in pattern.finditer(text):
            month = _MONTH_NUMBERS[match["month"].lower()]
            year = match.groupdict().get("year") or "2000"  # a leap year: 29 Feb passes
            if _is_date(_full_year(year.lstrip("'")), month, int(match["day"])):
                yield Finding(IdentifierClass.DATE, match.start(), match.end())


def _dates(text: str) -> Iterator[Finding]:
    yield from _numeric_dates(text)
    yield from _worded_dates(text)
    yield from _found(IdentifierClass.DATE, _BIRTH_PARTIAL.finditer(text), "value")


# --- ages over 89 ------------------------------------------------------------------

_AGE_NUMBER = (
    r"(?P<age>\d{2,3}|ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|(?:one|a)\s+hundred(?:\s+and\s+[a-z]+)?)"
)
# "aged 90 or over" is the aggregate Safe Harbor allows, so it is not flagged.
_AGGREGATE = r"(?!\s*(?:\+|or\s+(?:over|above|older|more)|and\s+(?:over|above|older)))"
# A baby "aged 91 days" is not an age over 89.
_NOT_YEARS = r"(?!\s*(?:days?|weeks?|wks?|months?|hours?|hrs?|minutes?|mins?|[dwmh])\b)"
_AGE_PATTERNS = (
    re.compile(
        rf"(?i)(?=a)\b(?:aged|age|at\s+the\s+age\s+of)\s*[:=]?\s*{_AGE_NUMBER}"
        rf"\b{_AGGREGATE}{_NOT_YEARS}"
    ),
    re.compile(rf"(?i)(?=[\dano])\b{_AGE_NUMBER}[\s-]*(?:years?|yrs?|y)[\s-]*(?:old|of\s+age)\b"),
    re.compile(rf"(?i)(?=[\dano])\b{_AGE_NUMBER}\s*(?:yo|y/o|y\.o\.?)(?!\w)"),
    re.compile(rf"(?i)(?=t)\b(?:turned|turns|turning)\s+{_AGE_NUMBER}\b{_NOT_YEARS}"),
    re.compile(r"(?i)(?=\d)\b(?P<age>\d{2,3})(?:st|nd|rd|th)\s+birthday\b"),
    # "She is 96": after a pronoun, unless a unit follows ("he is 92 kg", "she is 95%").
    re.compile(
        rf"(?i)(?=[hst])\b(?:she|he|they)(?:'s|\s+is|\s+was|\s+are|\s+were)\s+(?:now\s+)?"
        rf"{_AGE_NUMBER}\b{_NOT_YEARS}(?!\s*(?:%|per\s*cent|kgs?|lbs?|st\b|stone|cm|mm|mg|ml"
        r"|bpm|mmhg|mcg|micrograms?|mmol|units?|iu\b|ng\b|g\b|l\b|points?|on\b|out\s+of|/|[.,]\d))"
    ),
)
_AGE_WORDS = re.compile(
    r"(?i)(?=[cins])(?:\bin\s+(?:his|her|their)\s+(?:(?:early|mid|late)[\s-]+)?"
    r"(?:nineties|90'?s|hundreds)\b"
    r"|\b(?:super)?centenarians?\b|\bnonagenarians?\b)"
)
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_UNITS |= {"six": 6, "seven": 7, "eight": 8, "nine": 9}


def _age_value(words: str) -> int:
    words = words.lower()
    if words.isdigit():
        return int(words)
    if words.startswith("ninety"):
        return 90 + _UNITS.get(words[7:], 0)
    return 100


def _ages(text: str) -> Iterator[Finding]:
    for pattern in _AGE_PATTERNS:
        for match in pattern.finditer(text):
            if 90 <= _age_value(match["age"]) <= 130:
                yield Finding(IdentifierClass.AGE, match.start(), match.end())
    yield from _found(IdentifierClass.AGE, _AGE_WORDS.finditer(text))


# --- phone and fax numbers ---------------------------------------------------------

# phonenumbers' matcher is by far the slowest detector, so it reads only the stretches
# with seven digits or more (with a leading "+" or "(" and a trailing extension), not
# the whole note.
_DIGIT_RUN = re.compile(r"[+(]?\d(?:[\s().+/-]{0,3}\d){6,}")
_PHONE_WORD = re.compile(
    r"(?i)\b(?:tel|telephone|phone|ph|mob|mobile|cell|fax|call|ring|text|contact|landline"
    r"|number|no)\b[\s.:#()]*(?:on\s+)?$"
)
_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension)\s*\d+\s*$")
_SENTENCE_BREAK = re.compile(r"[.,;:]\s")
# A country code or the international prefix before it: "+44", "0044", "001", "011", "1".
_DIALLING_PREFIX = re.compile(r"00\d{0,3}|011|1")
_EXTENSION_AFTER = re.compile(r"(?i)[\s,]*(?:x|ext\.?|extn\.?|extension)\s*\d{1,6}")


def _is_phone_shaped(body: str) -> bool:
    # Written phone numbers come in a few groups, at least one of four digits or more
    # ("020 7946 0000", "(212) 555-0123"); lists of readings ("12 14 16 18 20") do not.
    if _SENTENCE_BREAK.search(body):  # "Para 2+1. 0000000000": two things, not one number
        return False
    groups = re.findall(r"\d+", body)
    if len(groups) > 1 and (body.startswith("+") or _DIALLING_PREFIX.fullmatch(groups[0])):
        groups = groups[1:]
    groups = [group for group in groups if group != "0"]  # the "(0)" of "+44 (0)20"
    longest = max(map(len, groups), default=0)
    # Ten digits run together are the whole number: "0060397454 20/20" is two things.
    return len(groups) <= 4 and longest >= 4 and (longest < 10 or len(groups) == 1)


def _is_valid_phone(number: phonenumbers.PhoneNumber) -> bool:
    # Checked against the main region of its country code only: phonenumbers' own
    # is_valid_number tries every region sharing +1, which is most of the check's time.
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    return phonenumbers.is_valid_number_for_region(number, region)


def _phone_reading(text: str, start: int, match: PhoneNumberMatch) -> tuple[int, bool]:
    """How much of the match is a phone number (all of it, the number without its
    extension, or nothing: 0), and whether it is valid."""
    body = _EXTENSION.sub("", match.raw_string)
    if not _is_phone_shaped(body):
        return 0, False
    if _is_valid_phone(match.number):
        return len(match.raw_string), True
    # Fictional ranges (Ofcom's drama numbers, unassigned US area codes) are not valid
    # yet look the same in a note: ten digits or more, or seven after a word like "tel",
    # count too, though not what reads as their extension ("... Extension 4321 for
    # the ward" may be the next sentence).
    digits = sum(char.isdigit() for char in body)
    if digits >= 10:
        return len(body), False
    near = _PHONE_WORD.search(text, max(0, start - 24), start)
    return (len(body) if digits >= 7 and near is not None else 0), False


def _phones_in(text: str, low: int, high: int, region: str) -> tuple[list[Finding], bool]:
    """The phone numbers in text[low:high] read in `region`, and whether any is valid."""
    found, any_valid = [], False
    for match in PhoneNumberMatcher(text[low:high], region, leniency=Leniency.POSSIBLE):
        start = low + match.start
        length, valid = _phone_reading(text, start, match)
        if length:
            found.append(Finding(IdentifierClass.PHONE, start, start + length))
            any_valid = any_valid or valid
    return found, any_valid


def _phone_windows(text: str) -> Iterator[tuple[int, int]]:
    window: tuple[int, int] | None = None
    for run in _DIGIT_RUN.finditer(text):
        extension = _EXTENSION_AFTER.match(text, run.end())
        tail = extension.end() if extension else run.end()
        # One character more either side, so the matcher sees what the number touches.
        start, end = max(0, run.start() - 2), min(len(text), tail + 1)
        if window is not None and start <= window[1]:
            window = (window[0], end)
            continue
        if window is not None:
            yield window
        window = (start, end)
    if window is not None:
        yield window


# International numbers ("+1 ...") are read in any region, and American numbers never
# start with a trunk 0 ("0161 ...").
_NOT_AMERICAN = re.compile(r"\+|(?<!\d)\(?0[1-9]")


def _phones(text: str) -> Iterator[Finding]:
    for low, high in _phone_windows(text):
        found, valid = _phones_in(text, low, high, "GB")
        yield from found
        # A stretch with a valid British number need not be read as American.
        if not valid and not _NOT_AMERICAN.search(text, low, low + 5):
            yield from _phones_in(text, low, high, "US")[0]


# --- email and web addresses -------------------------------------------------------

_ATEXT = r"\w!#$%&'*+/=?^`{|}~-"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_EMAIL = re.compile(rf"(?<![.{_ATEXT}])[{_ATEXT}]+(?:\.[{_ATEXT}]+)*@{_DOMAIN}(?![\w-])")
_TLDS = (
    "com|org|net|edu|gov|mil|int|info|biz|io|co|me|uk|us|ca|au|nz|ie|eu|de|fr|nl|es|it"
    "|app|dev|health|care|clinic|online|site|scot|wales|london|nyc|ly|be|gl|tv"
)
_URL_PATTERNS = (
    re.compile(r"(?i)(?=[fh])\b(?:https?|ftp)://[^\s<>\"']+"),
    re.compile(r"(?i)(?<![\w.@/-])www\.[^\s<>\"']+"),
    # A bare domain ("example.co.uk/path") needs a known ending, so "e.g." and
    # "S. aureus" stay out.
    re.compile(
        rf"(?i)(?=[a-z0-9-]+\.[a-z])(?<![\w.@/-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+"
        rf"(?:{_TLDS})"
        r"(?![\w-])(?:/[^\s<>\"']*)?"
    ),
)
_TRAILING = ".,;:!?)]}'\"’"


def _emails(text: str) -> Iterator[Finding]:
    if "@" in text:
        yield from _found(IdentifierClass.EMAIL, _EMAIL.finditer(text))


def _urls(text: str) -> Iterator[Finding]:
    for pattern in _URL_PATTERNS:
        for match in pattern.finditer(text):
            # Sentence punctuation after an address is not part of it.
            end = match.start() + len(match[0].rstrip(_TRAILING))
            yield Finding(IdentifierClass.URL, match.start(), end)


# --- postcodes and ZIP codes -------------------------------------------------------

# The outward code shapes A9, A99, A9A, AA9, AA99, AA9A with the letters each position
# allows, then the inward code: a digit and two letters (never C, I, K, M, O or V).
_UK_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ](?:[A-HK-Y]\d[ABEHMNPRV-Y\d]?|\d[A-HJKPSTUW\d]?)"
    r" ?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)
_STATE_CODES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE"
    "|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|VI|GU|AS|MP"
    "|PW|FM|MH|AA|AE|AP"
)
_STATE_NAMES = (
    "Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida"
    "|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland"
    "|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada"
    "|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio"
    "|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee"
    "|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming"
    "|Puerto Rico|District of Columbia"
)
# Five digits alone are too common in clinical text (counts, doses); a ZIP is one only
# after a state or the word ZIP.
_US_ZIP = re.compile(
    rf"(?=[A-WZz])(?:\b(?:{_STATE_CODES})\.?,?\s+|\b(?:{_STATE_NAMES}),?\s+"
    r"|(?i:\bzip(?:\s*code)?)\s*[:#]?\s*)"
    r"(?P<zip>\d{5}(?:-\d{4})?)(?![\d-])"
)
_FIVE_DIGITS = re.compile(r"(?<!\d)\d{5}(?!\d)")


def _postcodes(text: str) -> Iterator[Finding]:
    yield from _found(IdentifierClass.POSTCODE, _UK_POSTCODE.finditer(text))
    if _FIVE_DIGITS.search(text):  # the state names are slow to look for everywhere
        yield from _found(IdentifierClass.POSTCODE, _US_ZIP.finditer(text), "zip")


# --- street addresses --------------------------------------------------------------

_STREET_TYPES = (
    "Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Way|Court|Ct|Place|Pl|Crescent"
    "|Cres|Terrace|Tce|Gardens|Gdns|Grove|Park|Square|Sq|Boulevard|Blvd|Hill|Row|Mews|Walk"
    "|Parade|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Trail|View|Rise|Green|Vale|Wharf"
    "|Embankment|Broadway|Plaza|Alley|Heights|Meadows?|Croft|Chase|Quay|Ridge|Crossing"
    "|Loop|Pike|Turnpike|Causeway|Circus|Hollow|Brow|Knolls?|Ferry|Spur|Fields?|Passage"
)
_UNIT = r"(?:Flat|Apt|Apartment|Suite|Ste|Unit|Studio)\.?\s*(?:No\.?\s*)?#?\d{1,4}[A-Za-z]?"
_NOT_TIME = r"(?!\s*(?:days?|weeks?|wks?|months?|years?|yrs?|hours?|hrs?|/))"
_STREET_WORDS = r"(?:[A-Z][\w'’.-]*\s+){1,4}"
_ADDRESS_PATTERNS = (
    re.compile(
        rf"(?<![\w.,/-])(?:{_UNIT},?\s+)?\d{{1,5}}[A-Za-z]?(?:[-–/]\d{{1,5}}[A-Za-z]?)?,?\s+"
        rf"{_STREET_WORDS}(?:{_STREET_TYPES})\b(?:\.?\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?"
        rf"(?:\.?,?\s+{_UNIT}\b)?"
    ),
    re.compile(rf"(?=[AFSU])\b{_UNIT}\b{_NOT_TIME}"),
    re.compile(r"(?i)(?=p)\bP\.?\s?O\.?\s*Box\s+\d{1,6}\b"),
    # Without a number, a street is an address where the note says someone lives there.
    re.compile(
        rf"(?=[LlRrMmAa])(?i:\b(?:lives|living|lived|resides|residing|moved|address(?:\s+is)?))"
        rf"(?:\s+(?:on|in|at|to))?\s+(?P<street>{_STREET_WORDS}(?:{_STREET_TYPES})\b)"
    ),
)


def _addresses(text: str) -> Iterator[Finding]:
    for pattern in _ADDRESS_PATTERNS:
        group = "street" if "street" in pattern.groupindex else 0
        yield from _found(IdentifierClass.ADDRESS, pattern.finditer(text), group)


# --- NHS numbers -------------------------------------------------------------------

# NHS numbers are written 3-3-4 with spaces, or run together; hyphens are how American
# phone numbers are written, so a hyphenated one counts only after "NHS".
_NHS_SHAPE = re.compile(r"(?<![\w-])\d{3}( ?)\d{3}\1\d{4}(?![\w-])")
_NHS_LABELLED = re.compile(
    r"(?i)\bNHS(?:\s*(?:no\.?|number|num|\#))?\s*[:#.]?\s*"
    r"(?P<number>\d{3}(?P<sep>[ -]?)\d{3}(?P=sep)\d{4})(?![\w-])"
)


def _nhs_number_is_valid(digits: str) -> bool:
    """The modulus 11 check: weights 10 down to 2 on the first nine digits; the check
    digit is 11 minus the remainder (11 reads as 0, and 10 is never issued)."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True)
    )
    check = (11 - total % 11) % 11
    return check != 10 and check == int(digits[9])


# Scotland's CHI and Northern Ireland's H&C numbers are ten digits with the same check.
_OTHER_TEN_DIGITS = re.compile(r"(?i)\b(?:CHI|H\s*&\s*C)(?:\s*(?:no\.?|number))?\s*[:#.]?\s*$")


def _nhs_numbers(text: str) -> Iterator[Finding]:
    for match in _NHS_SHAPE.finditer(text):
        if _OTHER_TEN_DIGITS.search(text, max(0, match.start() - 16), match.start()):
            continue
        if _nhs_number_is_valid(re.sub(r"\D", "", match[0])):
            yield Finding(IdentifierClass.NHS_NUMBER, match.start(), match.end())
    for match in _NHS_LABELLED.finditer(text):
        # A mistyped NHS number still identifies the patient to anyone who can look it up.
        valid = _nhs_number_is_valid(re.sub(r"\D", "", match["number"]))
        kind = IdentifierClass.NHS_NUMBER if valid else IdentifierClass.RECORD_NUMBER
        yield Finding(kind, match.start("number"), match.end("number"))


# --- other record and insurance numbers --------------------------------------------

_RECORD_LABEL = r"""
    MRN | M\.R\.N\.? | (?:medical\s+)?records?\s*(?:no\.?|number|num|\#)
    | hosp(?:ital)?\.?\s*(?:no\.?|number|num|id|\#) | (?:patient|pt)\s*(?:id|no\.?|number|\#)
    | unit\s+(?:no\.?|number) | chart\s*(?:no\.?|number|\#) | case\s*(?:no\.?|number|\#)
    | account\s*(?:no\.?|number|\#) | acct\.?(?:\s*(?:no\.?|number|\#))?
    | CHI(?:\s*(?:no\.?|number))? | H\s*&\s*C\s*(?:no\.?|number)
    | NI(?:\s*(?:no\.?|number))? | national\s+insurance(?:\s*(?:no\.?|number))?
    | SSN | social\s+security(?:\s*(?:no\.?|number|\#))?
    | medicare(?:\s*(?:no\.?|number|id|\#|card))? | medicaid(?:\s*(?:no\.?|number|id|\#))?
    | (?:health\s+)?insurance(?:\s*(?:policy|member))?(?:\s*(?:no\.?|number|id|\#))?
    | policy\s*(?:no\.?|number|\#)? | (?:member|subscriber|beneficiary)\s*(?:id|no\.?|number|\#)
    | health\s*plan(?:\s*(?:id|no\.?|number|\#))? | NHS\s*(?:no\.?|number|\#) | MBI | NINO
    | membership\s*(?:no\.?|number|\#) | passport(?:\s*(?:no\.?|number))?
    | driv(?:er'?s|ing)\s+licen[cs]e(?:\s*(?:no\.?|number))?
"""
# Spaced forms first (SSN 3-2-4, NI 2-2-2-2-1, CHI 3-3-4), then a compact id.
_RECORD_ID = r"""
    (?P<id>\d{3}\s\d{2}\s\d{4} | [A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D] | \d{3}\s\d{3}\s\d{4}
    | [A-Z0-9](?:[A-Z0-9/-]*[A-Z0-9])?)(?![\w-])
"""
_LABELLED_RECORD = re.compile(
    rf"(?ix)(?=[abcdhimnprsu])\b(?:{_RECORD_LABEL})(?![a-z])"
    r"\s*[:\#.=-]?\s*(?:(?:no\.?|number|id)\s*)?[:\#]?\s*" + _RECORD_ID
)
_RECORD_SHAPES = (
    # National Insurance: two prefix letters (not D, F, I, Q, U, V; O not second; not
    # the unissued pairs), six digits, suffix A to D.
    re.compile(
        r"(?<![A-Za-z0-9])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
        r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])"
    ),
    # US Social Security: area never 000, 666 or 9xx; group never 00; serial never 0000.
    re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])"),
    # Medicare Beneficiary Identifier: 11 characters in a fixed digit/letter pattern.
    re.compile(
        r"(?<![\w-])[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y\d]\d-?[AC-HJKMNP-RT-Y]"
        r"[AC-HJKMNP-RT-Y\d]\d-?[AC-HJKMNP-RT-Y]{2}\d{2}(?![\w-])"
    ),
)


def _is_record_id(value: str) -> bool:
    # Enough digits to be an id, so "case no improvement" or "policy 3" stay out.
    alnum = sum(char.isalnum() for char in value)
    return alnum >= 5 and sum(char.isdigit() for char in value) >= 3


def _record_numbers(text: str) -> Iterator[Finding]:
    for match in _LABELLED_RECORD.finditer(text):
        if _is_record_id(match["id"]):
            yield Finding(IdentifierClass.RECORD_NUMBER, match.start("id"), match.end("id"))
    for pattern in _RECORD_SHAPES:
        yield from _found(IdentifierClass.RECORD_NUMBER, pattern.finditer(text))


# --- IP addresses ------------------------------------------------------------------

_IPV4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w])(?!\.\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r"(?![\w:])(?!\.\d)"
)


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return False
    # "::" and "::1" are valid but identify no one; two groups also keep times out.
    return sum(1 for group in re.split(r"[:.]", candidate) if group) >= 2


def _ip_addresses(text: str) -> Iterator[Finding]:
    patterns = [pattern for pattern, sign in ((_IPV4, "."), (_IPV6, ":")) if sign in text]
    for pattern in patterns:
        for match in pattern.finditer(text):
            if _is_ip(match[0]):
                yield Finding(IdentifierClass.IP_ADDRESS, match.start(), match.end())


_DETECTORS: tuple[Callable[[str], Iterable[Finding]], ...] = (
    _names,
    _dates,
    _ages,
    _phones,
    _emails,
    _urls,
    _postcodes,
    _addresses,
    _nhs_numbers,
    _record_numbers,
    _ip_addresses,
)
