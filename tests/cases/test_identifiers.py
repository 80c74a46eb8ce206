"""The identifier check for case notes: each class, the merging, properties, the corpus."""

from __future__ import annotations

import ast
import ipaddress
import itertools
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.cases import identifiers
from bot.cases.identifiers import HINTS, Finding, IdentifierClass, find_identifiers
from tests.cases import corpus

K = IdentifierClass
CLEAN = corpus.negatives()


def spans(text: str) -> list[tuple[IdentifierClass, str]]:
    return [(finding.kind, text[finding.start : finding.end]) for finding in find_identifiers(text)]


def kinds(text: str) -> set[IdentifierClass]:
    return {finding.kind for finding in find_identifiers(text)}


def assert_well_formed(text: str, findings: list[Finding]) -> None:
    for finding in findings:
        assert 0 <= finding.start < finding.end <= len(text)
    for before, after in itertools.pairwise(findings):
        assert before.end <= after.start, (before, after)


# --- one class at a time ---------------------------------------------------------------

FOUND = [
    # names after titles
    ("Mr Patel was seen.", K.NAME, "Mr Patel"),
    ("Reviewed by Dr. Sarah O'Neill today.", K.NAME, "Dr. Sarah O'Neill"),
    ("Mrs Smith-Jones came alone.", K.NAME, "Mrs Smith-Jones"),
    ("Dr J. McDonald agreed.", K.NAME, "Dr J. McDonald"),
    ("Ms van der Berg declined.", K.NAME, "Ms van der Berg"),
    ("I saw Mr O'Brien's wife.", K.NAME, "Mr O'Brien"),
    ("Sister Bernadette was on.", K.NAME, "Sister Bernadette"),
    ("Mrs Zoë Nuñez was tearful.", K.NAME, "Mrs Zoë Nuñez"),
    ("Mr Ward came in.", K.NAME, "Mr Ward"),  # a surname that is also a clinical word
    # dates
    ("DOB 12/03/1961.", K.DATE, "12/03/1961"),
    ("seen 12.03.61 in clinic", K.DATE, "12.03.61"),
    ("on 3 March 1961", K.DATE, "3 March 1961"),
    ("on March 3, 1961 at home", K.DATE, "March 3, 1961"),
    ("admitted 1961-03-12", K.DATE, "1961-03-12"),
    ("DOB 12/3/61", K.DATE, "12/3/61"),
    ("born 4th of May 1950", K.DATE, "4th of May 1950"),
    ("DOB: 03/1961, lives alone", K.DATE, "03/1961"),
    ("born March 1961 in Leeds", K.DATE, "March 1961"),
    ("08/31/1975 (American)", K.DATE, "08/31/1975"),
    ("on 03-Mar-1961", K.DATE, "03-Mar-1961"),
    ("Admitted 2023-11-05T14:30", K.DATE, "2023-11-05"),
    ("I first saw her on 14 November.", K.DATE, "14 November"),
    # ages over 89
    ("She is aged 92.", K.AGE, "aged 92"),
    ("a 94-year-old man", K.AGE, "94-year-old"),
    ("94 yo F", K.AGE, "94 yo"),
    ("he is 94 years old", K.AGE, "94 years old"),
    ("age 101, frail", K.AGE, "age 101"),
    ("aged ninety-two", K.AGE, "aged ninety-two"),
    ("she is in her nineties", K.AGE, "in her nineties"),
    ("she turned 95 last week", K.AGE, "turned 95"),
    ("She is 96 and lives alone.", K.AGE, "She is 96"),
    # phones
    ("Call 07700 900123 tonight.", K.PHONE, "07700 900123"),
    ("Tel (212) 555-0123.", K.PHONE, "(212) 555-0123"),
    ("on +44 20 7946 0123 at work", K.PHONE, "+44 20 7946 0123"),
    ("fax 01632 960 783", K.PHONE, "01632 960 783"),
    ("tel 555-0199", K.PHONE, "555-0199"),
    ("texted from +447700900123", K.PHONE, "+447700900123"),
    ("Phone: 202-555-0143 ext. 12", K.PHONE, "202-555-0143 ext. 12"),
    ("Phone: (212) 736-5000 ext. 12", K.PHONE, "(212) 736-5000 ext. 12"),
    # emails and web addresses
    ("Write to john.smith@example.co.uk today.", K.EMAIL, "john.smith@example.co.uk"),
    ("see www.example.org.", K.URL, "www.example.org"),
    ("at example.co.uk/path, she said", K.URL, "example.co.uk/path"),
    ("(https://nhs.uk/x).", K.URL, "https://nhs.uk/x"),
    # postcodes and ZIP codes
    ("lives in SW1A 1AA", K.POSTCODE, "SW1A 1AA"),
    ("M1 1AE", K.POSTCODE, "M1 1AE"),
    ("B33 8TH, near the park", K.POSTCODE, "B33 8TH"),
    ("EC1A1BB", K.POSTCODE, "EC1A1BB"),
    ("Springfield, IL 62704", K.POSTCODE, "62704"),
    ("Texas 75001-1234", K.POSTCODE, "75001-1234"),
    ("ZIP:90210", K.POSTCODE, "90210"),
    # street addresses
    ("She lives at 14 Elm Road.", K.ADDRESS, "14 Elm Road"),
    ("221B Baker Street", K.ADDRESS, "221B Baker Street"),
    ("1600 Pennsylvania Avenue NW, Washington", K.ADDRESS, "1600 Pennsylvania Avenue NW"),
    ("Flat 3, 12 Church Lane", K.ADDRESS, "Flat 3, 12 Church Lane"),
    ("Apt 4B is on the top floor", K.ADDRESS, "Apt 4B"),
    ("She lives on Elm Road.", K.ADDRESS, "Elm Road"),
    # NHS numbers
    ("NHS 943 476 5919", K.NHS_NUMBER, "943 476 5919"),
    ("number 9434765919 on the letter", K.NHS_NUMBER, "9434765919"),
    ("NHS No. 943-476-5919", K.NHS_NUMBER, "943-476-5919"),
    # other record numbers
    ("MRN 12345678", K.RECORD_NUMBER, "12345678"),
    ("Hosp No: K1234567", K.RECORD_NUMBER, "K1234567"),
    ("NI AB123456C", K.RECORD_NUMBER, "AB123456C"),
    ("NI number AB 12 34 56 C", K.RECORD_NUMBER, "AB 12 34 56 C"),
    ("NI: QQ 12 34 56 C", K.RECORD_NUMBER, "QQ 12 34 56 C"),
    ("CHI 0101301234", K.RECORD_NUMBER, "0101301234"),
    ("SSN 123-45-6789", K.RECORD_NUMBER, "123-45-6789"),
    ("Medicare 1EG4-TE5-MK73", K.RECORD_NUMBER, "1EG4-TE5-MK73"),
    ("policy no POL-88812", K.RECORD_NUMBER, "POL-88812"),
    ("NHS no 943 476 5910", K.RECORD_NUMBER, "943 476 5910"),
    # IP addresses
    ("from 192.168.1.20.", K.IP_ADDRESS, "192.168.1.20"),
    ("via 2001:db8::1 twice", K.IP_ADDRESS, "2001:db8::1"),
    ("::ffff:192.0.2.1", K.IP_ADDRESS, "::ffff:192.0.2.1"),
]


@pytest.mark.parametrize(("text", "kind", "value"), FOUND)
def test_each_class_is_found_with_its_exact_span(
    text: str, kind: IdentifierClass, value: str
) -> None:
    assert (kind, value) in spans(text)


NOT_FOUND = [
    ("He has a Dr appointment next week.", K.NAME),
    ("She saw Dr on Tuesday.", K.NAME),
    ("He reads the Mr Men books.", K.NAME),
    ("Mr A. He was angry.", K.NAME),
    ("The Nurse Practitioner phoned.", K.NAME),
    ("MS Clinic follow-up.", K.NAME),
    ("GP Dr Appt Friday.", K.NAME),
    ("BP 140/90", K.DATE),
    ("a 6/12 history", K.DATE),
    ("GCS 14/15", K.DATE),
    ("in March", K.DATE),
    ("since 2019", K.DATE),
    ("31/02/2020 is no date", K.DATE),
    ("an 89-year-old", K.AGE),
    ("aged 85", K.AGE),
    ("aged 90 or over", K.AGE),
    ("baby aged 91 days", K.AGE),
    ("sats 94% on 2L", K.AGE),
    ("he is 92 kg", K.AGE),
    ("she is 95% sure", K.AGE),
    ("NHS 111", K.PHONE),
    ("Insulin 12 14 16 18 20 units", K.PHONE),
    ("e.g. S. aureus, i.e. E. coli", K.URL),
    ("T2DM", K.POSTCODE),
    ("viral load 12000 copies", K.POSTCODE),
    ("4-6 units", K.ADDRESS),
    ("ward 7, bed 12", K.ADDRESS),
    ("case no improvement", K.RECORD_NUMBER),
    ("at 14:30:00", K.IP_ADDRESS),
    ("300.1.2.3", K.IP_ADDRESS),
]


@pytest.mark.parametrize(("text", "kind"), NOT_FOUND)
def test_clinical_shorthand_is_not_taken_for_an_identifier(
    text: str, kind: IdentifierClass
) -> None:
    assert kind not in kinds(text)


def test_an_nhs_number_with_a_wrong_check_digit_is_not_an_nhs_number() -> None:
    assert K.NHS_NUMBER in kinds("943 476 5919")
    for wrong in "0123456789":
        if wrong != "9":
            assert K.NHS_NUMBER not in kinds(f"943 476 591{wrong}")


def test_a_ten_digit_number_whose_check_would_be_ten_is_never_an_nhs_number() -> None:
    # 100 000 001 has weighted sum 12: 11 - 12 % 11 = 10, a digit the NHS never issues.
    assert all(K.NHS_NUMBER not in kinds(f"NHS 100 000 001 {d}") for d in "0123456789")


def test_findings_are_sorted_and_do_not_overlap() -> None:
    text = (
        "Mr Patel (DOB 12/03/1961, NHS 943 476 5919) lives at 14 Elm Road, SW1A 1AA; "
        "email p.patel@example.com, mobile 07700 900123, aged 92."
    )
    found = find_identifiers(text)
    assert_well_formed(text, found)
    assert [f.kind for f in found] == [
        K.NAME,
        K.DATE,
        K.NHS_NUMBER,
        K.ADDRESS,
        K.POSTCODE,
        K.EMAIL,
        K.PHONE,
        K.AGE,
    ]
    assert [text[f.start : f.end] for f in found][:3] == ["Mr Patel", "12/03/1961", "943 476 5919"]


def test_the_longer_or_more_specific_reading_wins() -> None:
    # The domain inside an email is also a web address; the email is longer.
    assert spans("mail jo@example.org") == [(K.EMAIL, "jo@example.org")]
    # A valid NHS number is also a possible US phone number; the NHS number is specific.
    assert spans("943 476 5919") == [(K.NHS_NUMBER, "943 476 5919")]
    # An MRN may be shaped like a phone number; after "MRN" it is a record number.
    assert spans("MRN 02079460123") == [(K.RECORD_NUMBER, "02079460123")]


def test_every_class_has_a_label_and_a_hint() -> None:
    assert set(HINTS) == set(IdentifierClass)
    for kind in IdentifierClass:
        assert 0 < len(kind.value) <= 30
        assert HINTS[kind].startswith("a")
        assert len(HINTS[kind]) > 20
        assert Finding(kind, 0, 1).hint == HINTS[kind]
    with pytest.raises(TypeError):
        HINTS[K.NAME] = "changed"  # type: ignore[index]


def test_empty_and_clean_text_has_no_findings() -> None:
    assert find_identifiers("") == []
    assert find_identifiers("A woman in her sixties, seen by the GP.") == []


def test_the_module_is_pure() -> None:
    """Only the standard library and phonenumbers: it is a rule, like the other rules."""
    tree = ast.parse(Path(identifiers.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"phonenumbers"}


# --- cross-checks against independent implementations -----------------------------------


def reference_nhs_valid(number: str) -> bool:
    """The NHS Data Dictionary's steps, written out plainly."""
    total = 0
    for position in range(9):
        total += int(number[position]) * (10 - position)
    remainder = total % 11
    check = 11 - remainder
    if check == 11:
        check = 0
    if check == 10:
        return False
    return check == int(number[9])


@given(st.integers(min_value=0, max_value=9_999_999_999))
def test_the_nhs_check_agrees_with_a_plain_implementation(value: int) -> None:
    number = f"{value:010}"
    text = f"NHS number {number[:3]} {number[3:6]} {number[6:]}"
    found = kinds(text)
    if reference_nhs_valid(number):
        assert K.NHS_NUMBER in found
    else:
        assert K.NHS_NUMBER not in found
        assert K.RECORD_NUMBER in found  # mistyped or not, it still identifies


def test_the_nhs_check_accepts_the_published_example() -> None:
    assert reference_nhs_valid("9434765919")
    assert K.NHS_NUMBER in kinds("9434765919")


@given(st.ip_addresses())
def test_ip_addresses_are_found(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    text = str(address)
    groups = [group for group in text.replace(".", ":").split(":") if group]
    assume(len(groups) >= 2)  # "::" and "::1" identify no one and are left alone
    assert (K.IP_ADDRESS, text) in spans(f"The login came from {text} at night.")


@given(st.text(alphabet="0123456789abcdefABCDEF:. ", max_size=60))
def test_every_ip_finding_is_an_address_ipaddress_accepts(text: str) -> None:
    for finding in find_identifiers(text):
        if finding.kind is K.IP_ADDRESS:
            ipaddress.ip_address(text[finding.start : finding.end])


POSTCODE_FORMATS = ("A9 9AA", "A99 9AA", "A9A 9AA", "AA9 9AA", "AA99 9AA", "AA9A 9AA")


@st.composite
def uk_postcodes(draw: st.DrawFn) -> str:
    """Royal Mail's formats, with the letters each position may hold."""
    form = draw(st.sampled_from(POSTCODE_FORMATS))
    allowed = {
        0: "ABCDEFGHIJKLMNOPRSTUWYZ",  # first letter: never Q, V, X
        1: "ABCDEFGHKLMNOPQRSTUVWXY",  # second letter: never I, J, Z
    }
    out = []
    letters_seen = 0
    for index, shape in enumerate(form):
        if shape == "9":
            out.append(draw(st.sampled_from("0123456789")))
        elif shape == " ":
            out.append(" ")
        elif index >= len(form) - 2:
            out.append(draw(st.sampled_from("ABDEFGHJLNPQRSTUWXYZ")))  # inward: no CIKMOV
        elif form.startswith("A9A") and index == 2:
            out.append(draw(st.sampled_from("ABCDEFGHJKPSTUW")))
        elif form.startswith("AA9A") and index == 3:
            out.append(draw(st.sampled_from("ABEHMNPRVWXY")))
        else:
            out.append(draw(st.sampled_from(allowed[letters_seen])))
            letters_seen += 1
    return "".join(out)


@given(uk_postcodes(), st.booleans())
def test_uk_postcodes_of_every_format_are_found(postcode: str, spaced: bool) -> None:
    written = postcode if spaced else postcode.replace(" ", "")
    assert (K.POSTCODE, written) in spans(f"She lives in {written} with her son.")


# --- properties ------------------------------------------------------------------------

CLINICAL_ALPHABET = "0123456789 ./-:()+@#%,'abcdeMrsDNHSyoagedTelwwwcom\n"


@given(st.text())
def test_any_text_gives_well_formed_findings(text: str) -> None:
    assert_well_formed(text, find_identifiers(text))


@given(st.text(alphabet=CLINICAL_ALPHABET, max_size=200))
def test_digit_heavy_text_gives_well_formed_findings(text: str) -> None:
    assert_well_formed(text, find_identifiers(text))


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    nine = f"{draw(st.integers(min_value=0, max_value=999_999_999)):09}"
    check = corpus.nhs_check_digit(nine)
    assume(check is not None)
    digits = f"{nine}{check}"
    spaced = draw(st.booleans())
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if spaced else digits


def inserted(before: str, value: str, after: str) -> tuple[str, int]:
    text = f"{before} {value} {after}"
    return text, len(before) + 1


@settings(suppress_health_check=[HealthCheck.filter_too_much])
@given(st.sampled_from(CLEAN), nhs_numbers(), st.sampled_from(CLEAN))
def test_a_valid_nhs_number_in_clean_text_is_always_found(
    before: str, number: str, after: str
) -> None:
    text, start = inserted(before, number, after)
    found = find_identifiers(text)
    if re.match(r"(?i)(?:x|ext|extension)\b", after):
        # "532 277 7253 Extension 4321" is also a phone number with its extension.
        assert any(f.start <= start and f.end >= start + len(number) for f in found)
    else:
        assert Finding(K.NHS_NUMBER, start, start + len(number)) in found


@given(st.sampled_from(CLEAN), st.emails(), st.sampled_from(CLEAN))
def test_an_email_in_clean_text_is_always_found(before: str, email: str, after: str) -> None:
    text, start = inserted(before, email, after)
    assert Finding(K.EMAIL, start, start + len(email)) in find_identifiers(text)


def test_pathological_inputs_stay_fast() -> None:
    for text in (
        "a." * 750,
        "1 " * 750,
        "Mr " * 500,
        "1." * 750,
        ":" * 1500,
        "a@" * 750,
        "Flat 1, " * 180,
        "9" * 1500,
        "12/" * 500,
        "Aa " * 500,
    ):
        started = time.perf_counter()
        assert_well_formed(text, find_identifiers(text))
        assert time.perf_counter() - started < 0.5, text[:20]


def test_a_full_note_is_checked_quickly() -> None:
    note = " ".join(sentence for sentence, _ in corpus.positives()[:60])[:1500]
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        find_identifiers(note)
        timings.append(time.perf_counter() - started)
    # Loose, so a busy machine does not fail it; the bench prints the real figure.
    assert statistics.median(timings) < 0.05


# --- the corpus ------------------------------------------------------------------------


def test_the_corpus_is_large_enough_and_covers_every_class() -> None:
    positives = corpus.positives()
    assert len(positives) >= 300
    assert len(corpus.negatives()) >= 300
    per_class = Counter(kind for _, labels in positives for kind in labels)
    assert all(per_class[kind] >= 25 for kind in IdentifierClass), per_class
    assert len(set(corpus.negatives())) == len(corpus.negatives())


def test_the_corpus_is_the_same_on_every_build() -> None:
    first = (corpus.positives(), corpus.negatives())
    corpus._corpus.cache_clear()
    assert (corpus.positives(), corpus.negatives()) == first


def test_the_negatives_hold_the_hard_cases() -> None:
    text = "\n".join(corpus.negatives())
    for phrase in (
        "BP 140/90",
        "6/12 history",
        "visual acuity 6/9",
        "GCS 14/15",
        "Pain 3/10",
        "metformin 500 mg",
        "HbA1c 48 mmol/mol",
        "ward 7",
        "a man in his sixties",
        "last spring",
        "Dr appointment next week",
        "an 89-year-old",
        "aged 85",
        "seen by the GP",
        "saw Dr on Tuesday",
        "eGFR 45",
        "Hb 98 g/L",
        "Temp 38.5",
        "Sats 94% on 2L",
        "bed 12",
        "2 weeks ago",
        "In March",
        "a woman in her seventies",
        "Mr Men",
        "NHS 111",
        "at 14:30",
        "since 2019",
        "BMI 32.4",
        "QTc 480 ms",
        "K+ 5.9",
        "T2DM",
        "COPD",
        "4-6 units",
        "ECG",
    ):
        assert phrase.lower() in text.lower(), phrase


def corpus_recall() -> tuple[Counter[IdentifierClass], Counter[IdentifierClass]]:
    labelled: Counter[IdentifierClass] = Counter()
    found: Counter[IdentifierClass] = Counter()
    for sentence, labels in corpus.positives():
        seen = kinds(sentence)
        labelled.update(labels)
        found.update(labels & seen)
    return labelled, found


def test_recall_over_the_corpus() -> None:
    labelled, found = corpus_recall()
    assert sum(found.values()) / sum(labelled.values()) >= 0.95
    for kind in IdentifierClass:
        assert found[kind] / labelled[kind] >= 0.85, kind


def test_false_alarms_on_clean_notes() -> None:
    flagged = [sentence for sentence in corpus.negatives() if find_identifiers(sentence)]
    assert len(flagged) / len(corpus.negatives()) <= 0.05, flagged[:10]
