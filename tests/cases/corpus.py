"""A labelled corpus for the identifier check, in British and American clinical writing.

`positives()`: sentences a member might write before de-identifying their note, each with
the identifier classes it contains. Names, streets, phone numbers, emails and web
addresses come from Faker (`en_GB` and `en_US`); the numbers with a structure of their
own (NHS numbers with a valid check digit, National Insurance numbers, SSNs, postcodes)
are generated here to that structure.

`negatives()`: clean, de-identified sentences full of what clinical writing is full of
(pressures, fractions, doses, scores, lab values, times, wards, roles instead of names),
none of which may be flagged.

Deterministic: fixed seeds, built once per process, the same on every run.
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

from faker import Faker

from bot.cases.identifiers import IdentifierClass

K = IdentifierClass
Labelled = tuple[str, frozenset[IdentifierClass]]

SEED = 20_260_311
PER_CLASS = 32  # sentences for each class alone; the mixed ones come on top
GENERATED_NEGATIVES = 120  # clean sentences put together from parts, after the written ones


def positives() -> list[Labelled]:
    return list(_corpus()[0])


def negatives() -> list[str]:
    return list(_corpus()[1])


@cache
def _corpus() -> tuple[tuple[Labelled, ...], tuple[str, ...]]:
    Faker.seed(SEED)
    values = Values(Faker(["en_GB", "en_US"]), random.Random(SEED))
    found: list[Labelled] = []
    for kind, make in values.sentence_makers().items():
        found.extend((make(), frozenset({kind})) for _ in range(PER_CLASS))
    found.extend(values.mixed())
    found.extend(values.hard())
    return tuple(found), tuple(_negatives(values))


# --- the values -----------------------------------------------------------------------

GB_STREET_TYPES = (
    "Road", "Street", "Lane", "Avenue", "Close", "Drive", "Way", "Crescent", "Gardens",
    "Court", "Place", "Grove", "Terrace", "Mews", "Rise", "Hill", "Green", "Walk",
)  # fmt: skip
US_STREET_TYPES = (
    "Street", "St", "Avenue", "Ave", "Boulevard", "Blvd", "Drive", "Dr", "Road", "Rd",
    "Lane", "Court", "Place", "Parkway", "Circle", "Way", "Trail", "Highway",
)  # fmt: skip
GB_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Mx", "Sister", "Nurse", "Dr.", "mr")
US_TITLES = ("Mr.", "Mrs.", "Ms.", "Dr.", "Miss", "Prof.", "Dr", "Mr", "Nurse")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
# The letters each position of a UK postcode allows (Royal Mail's rules).
PC_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"
PC_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"
PC_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def nhs_check_digit(nine: str) -> int | None:
    """The modulus 11 check digit of the first nine digits, None where it would be 10."""
    total = sum(int(digit) * (10 - index) for index, digit in enumerate(nine))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


class Values:
    """Identifiers and the sentences around them, drawn from Faker and one Random."""

    def __init__(self, fake: Faker, rng: random.Random) -> None:
        self.gb = fake["en_GB"]
        self.us = fake["en_US"]
        self.rng = rng

    def pick(self, *options: str) -> str:
        return self.rng.choice(options)

    def digits(self, count: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(count))

    def british(self) -> bool:
        return self.rng.random() < 0.5

    # names after titles
    def name(self) -> str:
        fake = self.gb if self.british() else self.us
        title = self.rng.choice(GB_TITLES if fake is self.gb else US_TITLES)
        last, first = fake.last_name(), fake.first_name()
        form = self.rng.randrange(6)
        if form == 0:
            return f"{title} {first} {last}"
        if form == 1:
            return f"{title} {first[0]}. {last}"
        if form == 2:
            return f"{title} {last}-{fake.last_name()}"
        return f"{title} {last}"

    # dates
    def day(self) -> date:
        return date(1925, 1, 1) + timedelta(days=self.rng.randrange(365 * 99))

    def full_date(self) -> str:
        when = self.day()
        month = MONTHS[when.month - 1]
        ordinal = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}
        forms = (
            f"{when:%d/%m/%Y}",
            f"{when.day}/{when.month}/{when:%y}",
            f"{when:%d.%m.%y}",
            f"{when.day} {month} {when.year}",
            f"{month} {when.day}, {when.year}",
            f"{when:%Y-%m-%d}",
            f"{when:%m/%d/%Y}",
            f"{when:%d-%b-%Y}",
            f"{when.day}{ordinal.get(when.day, 'th')} of {month} {when.year}",
            f"{when:%d %b %Y}",
            f"{when.month}-{when.day}-{when.year}",
        )
        return self.rng.choice(forms)

    def partial_birth_date(self) -> str:
        when = self.day()
        return self.pick(f"{when:%m/%Y}", f"{MONTHS[when.month - 1]} {when.year}")

    # ages over 89
    def age(self) -> str:
        years = self.rng.randrange(90, 106)
        return self.pick(
            f"aged {years}",
            f"a {years}-year-old",
            f"{years} yo",
            f"{years} years old",
            f"age {years}",
            f"{years} y/o",
            f"at the age of {years}",
            f"{years} years of age",
            f"{years}yo",
        )

    # phone numbers
    def phone(self) -> str:
        if self.british():
            return self.pick(
                self.gb.phone_number(),
                f"07{self.rng.randrange(400, 999)} {self.digits(6)}",
                f"+44 7{self.rng.randrange(400, 999)} {self.digits(3)} {self.digits(3)}",
                f"020 {self.rng.randrange(7, 9)}{self.digits(3)} {self.digits(4)}",
                f"0161 {self.rng.randrange(200, 999)} {self.digits(4)}",
                f"+44 (0)113 {self.rng.randrange(200, 999)} {self.digits(4)}",
                f"01{self.rng.randrange(200, 999)} {self.rng.randrange(200000, 999999)}",
            )
        area = self.rng.randrange(201, 990)
        return self.pick(
            self.us.phone_number(),
            f"({area}) {self.rng.randrange(200, 999)}-{self.digits(4)}",
            f"{area}-{self.rng.randrange(200, 999)}-{self.digits(4)}",
            f"+1 {area} {self.rng.randrange(200, 999)} {self.digits(4)}",
            f"{area}.{self.rng.randrange(200, 999)}.{self.digits(4)}",
            f"1-{area}-{self.rng.randrange(200, 999)}-{self.digits(4)}",
        )

    # email and web addresses
    def email(self) -> str:
        fake = self.gb if self.british() else self.us
        first, last = fake.first_name().lower(), fake.last_name().lower().replace("'", "")
        return self.pick(
            fake.email(),
            fake.free_email(),
            f"{first}.{last}@nhs.net",
            f"{first[0]}{last}{self.rng.randrange(10, 99)}@{fake.free_email_domain()}",
            f"{first}_{last}@{fake.domain_name()}",
        )

    def url(self) -> str:
        fake = self.gb if self.british() else self.us
        handle = fake.user_name()
        return self.pick(
            fake.url(),
            f"www.{fake.domain_name()}",
            f"{fake.domain_name()}/{fake.slug()}",
            f"https://www.facebook.com/{handle}",
            f"instagram.com/{handle}",
            f"http://{fake.domain_name()}/blog/{fake.slug()}",
            f"{handle}.co.uk",
            f"https://www.justgiving.com/fundraising/{handle}",
        )

    # postcodes and ZIP codes
    def uk_postcode(self) -> str:
        first = self.rng.choice(PC_FIRST)
        outward = self.pick(
            f"{first}{self.rng.randrange(1, 10)}",
            f"{first}{self.rng.randrange(10, 30)}",
            f"{first}{self.rng.choice(PC_SECOND)}{self.rng.randrange(1, 10)}",
            f"{first}{self.rng.choice(PC_SECOND)}{self.rng.randrange(10, 30)}",
            self.gb.postcode().split()[0],
        )
        inward = f"{self.rng.randrange(10)}{self.rng.choice(PC_INWARD)}{self.rng.choice(PC_INWARD)}"
        return f"{outward} {inward}"

    def zip_phrase(self) -> str:
        zip_code = self.pick(self.us.zipcode(), self.us.zipcode_plus4())
        return self.pick(
            f"{self.us.city()}, {self.us.state_abbr(include_territories=False)} {zip_code}",
            f"{self.us.state()} {zip_code}",
            f"ZIP {zip_code}",
            f"zip code {zip_code}",
        )

    # street addresses
    def street(self) -> str:
        if self.british():
            name = self.pick(self.gb.last_name(), self.gb.first_name(), "Church", "Station", "Mill")
            return f"{name} {self.rng.choice(GB_STREET_TYPES)}"
        name = self.pick(self.us.last_name(), "Maple", "Oak", "Washington", "Lincoln", "Elm")
        return f"{name} {self.rng.choice(US_STREET_TYPES)}"

    def address(self) -> str:
        number = self.rng.randrange(1, 400)
        return self.pick(
            f"{number} {self.street()}",
            f"{number}{self.pick('A', 'B')} {self.street()}",
            f"Flat {self.rng.randrange(1, 40)}, {number} {self.street()}",
            f"{self.rng.randrange(100, 9999)} {self.street()} {self.pick('NW', 'NE', 'SE', 'SW')}",
            f"{self.rng.randrange(100, 9999)} {self.street()}, Apt {number % 20 + 1}"
            f"{self.pick('A', 'B', 'C')}",
            f"{self.rng.randrange(100, 9999)} {self.street()} Suite {number}",
        )

    # NHS and other numbers
    def nhs_number(self) -> str:
        while True:
            nine = str(self.rng.randrange(400_000_000, 800_000_000))
            check = nhs_check_digit(nine)
            if check is not None:
                digits = f"{nine}{check}"
                return self.pick(f"{digits[:3]} {digits[3:6]} {digits[6:]}", digits)

    def wrong_nhs_number(self) -> str:
        while True:
            nine = str(self.rng.randrange(400_000_000, 800_000_000))
            check = nhs_check_digit(nine)
            wrong = (check or 0) + self.rng.randrange(1, 10)
            digits = f"{nine}{wrong % 10}"
            if check is None or wrong % 10 != check:
                return f"{digits[:3]} {digits[3:6]} {digits[6:]}"

    def ni_number(self) -> str:
        while True:
            prefix = self.rng.choice(NI_FIRST) + self.rng.choice(NI_SECOND)
            if prefix not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
                break
        body = self.digits(6)
        suffix = self.rng.choice("ABCD")
        return self.pick(
            f"{prefix}{body}{suffix}", f"{prefix} {body[:2]} {body[2:4]} {body[4:]} {suffix}"
        )

    def ssn(self) -> str:
        area = self.rng.choice([n for n in range(1, 900) if n != 666])
        return f"{area:03}-{self.rng.randrange(1, 100):02}-{self.rng.randrange(1, 10_000):04}"

    def mbi(self) -> str:
        letter, either = MBI_LETTERS, MBI_LETTERS + "0123456789"
        c = self.rng.choice
        return (
            f"{self.rng.randrange(1, 10)}{c(letter)}{c(either)}{self.digits(1)}-"
            f"{c(letter)}{c(either)}{self.digits(1)}-{c(letter)}{c(letter)}{self.digits(2)}"
        )

    def record(self) -> str:
        return self.pick(
            f"MRN {self.digits(8)}",
            f"MRN: {self.rng.choice('ABHKRX')}{self.digits(7)}",
            f"hospital number {self.rng.choice('RKH')}{self.digits(6)}",
            f"record no. {self.digits(7)}",
            f"NI number {self.ni_number()}",
            self.ni_number(),
            f"SSN {self.ssn()}",
            self.ssn(),
            f"Medicare number {self.mbi()}",
            f"insurance policy no. {self.pick('POL', 'BUPA', 'AXA')}-{self.digits(6)}",
            f"member ID {self.pick('W', 'XJH', 'MBR')}{self.digits(9)}",
            f"NHS number {self.wrong_nhs_number()}",
            f"Medicaid ID {self.digits(10)}",
            f"CHI {self.digits(10)}",
        )

    # IP addresses
    def ip(self) -> str:
        fake = self.gb if self.british() else self.us
        return self.pick(
            fake.ipv4(),
            fake.ipv4_private(),
            fake.ipv6(),
            ipaddress.IPv6Address(fake.ipv6()).compressed,
            f"2001:db8::{self.rng.randrange(1, 0xFFFF):x}",
            f"fe80::{self.rng.randrange(1, 0xFFFF):x}:{self.rng.randrange(1, 0xFFFF):x}",
        )

    # the sentences
    def sentence_makers(self) -> dict[IdentifierClass, Callable[[], str]]:
        return {
            K.NAME: lambda: self.fill(NAME_SENTENCES, self.name()),
            K.DATE: self.date_sentence,
            K.AGE: lambda: self.fill(AGE_SENTENCES, self.age()),
            K.PHONE: lambda: self.fill(PHONE_SENTENCES, self.phone()),
            K.EMAIL: lambda: self.fill(EMAIL_SENTENCES, self.email()),
            K.URL: lambda: self.fill(URL_SENTENCES, self.url()),
            K.POSTCODE: self.postcode_sentence,
            K.ADDRESS: lambda: self.fill(ADDRESS_SENTENCES, self.address()),
            K.NHS_NUMBER: lambda: self.fill(NHS_SENTENCES, self.nhs_number()),
            K.RECORD_NUMBER: lambda: self.fill(RECORD_SENTENCES, self.record()),
            K.IP_ADDRESS: lambda: self.fill(IP_SENTENCES, self.ip()),
        }

    def fill(self, templates: tuple[str, ...], value: str) -> str:
        return self.rng.choice(templates).format(value)

    def date_sentence(self) -> str:
        if self.rng.random() < 0.2:
            return self.fill(PARTIAL_DOB_SENTENCES, self.partial_birth_date())
        if self.rng.random() < 0.15:
            when = self.day()
            return f"I first saw her on {when.day} {MONTHS[when.month - 1]} in the clinic."
        return self.fill(DATE_SENTENCES, self.full_date())

    def postcode_sentence(self) -> str:
        if self.british():
            return self.fill(POSTCODE_SENTENCES, self.uk_postcode())
        return self.fill(ZIP_SENTENCES, self.zip_phrase())

    def mixed(self) -> list[Labelled]:
        """Sentences with several identifiers, the way a first draft of a note has them."""
        found: list[Labelled] = []
        for _ in range(12):
            found.append(
                (
                    f"{self.name()} (DOB {self.full_date()}, NHS {self.nhs_number()}) lives at "
                    f"{self.address()}, {self.uk_postcode()}.",
                    frozenset({K.NAME, K.DATE, K.NHS_NUMBER, K.ADDRESS, K.POSTCODE}),
                )
            )
            found.append(
                (
                    f"Her next of kin, {self.name()}, can be reached on {self.phone()} or at "
                    f"{self.email()}.",
                    frozenset({K.NAME, K.PHONE, K.EMAIL}),
                )
            )
            found.append(
                (
                    f"A widow {self.age()}, {self.record()}, was admitted on "
                    f"{self.full_date()} after a fall.",
                    frozenset({K.AGE, K.RECORD_NUMBER, K.DATE}),
                )
            )
            found.append(
                (
                    f"He posts on {self.url()} from {self.ip()} most nights, his wife says.",
                    frozenset({K.URL, K.IP_ADDRESS}),
                )
            )
        return found

    def hard(self) -> list[Labelled]:
        """Hand-written forms the generated sentences do not reach, known misses included
        (a lowercase name, a lowercase postcode, a street without a number), so that the
        figures are not flattered."""
        nhs = [self.nhs_number().replace(" ", "") for _ in range(3)]
        found = [
            (sentence, frozenset({kind}))
            for kind, sentences in HARD.items()
            for sentence in sentences
        ]
        found += [
            (f"NHS No. {nhs[0][:3]}-{nhs[0][3:6]}-{nhs[0][6:]}", frozenset({K.NHS_NUMBER})),
            (f"NHS: {nhs[1]}.", frozenset({K.NHS_NUMBER})),
            (
                f"(NHS {nhs[2][:3]} {nhs[2][3:6]} {nhs[2][6:]}) seen today.",
                frozenset({K.NHS_NUMBER}),
            ),
        ]
        return found


HARD: dict[IdentifierClass, tuple[str, ...]] = {
    K.NAME: (
        "Mrs Zoë Nuñez was tearful throughout.",
        "I phoned Mr O'Brien's wife that evening.",
        "Dr McAllister, her surgeon, disagreed with the plan.",
        "We discussed Ms van der Berg at length.",
        "Mr John SMITH was the name on the referral.",
        "Prof. Okonkwo led the review.",
        "Mx Taylor prefers they/them.",
        "Sister Bernadette ran the ward for thirty years.",
        "She was seen by dr patel in the morning.",
    ),
    K.DATE: (
        "DOB 12031961.",
        "She was born on 12th March 1961.",
        "DOB: 1961/03/12",
        "Admitted Mar. 3, 2023 with sepsis.",
        "It happened on the 3rd of March, she said.",
        "Seen 03/04/23 in the walk-in centre.",
        "Date of death 29/02/2020.",
        "Admitted 2023-11-05T14:30 via the emergency department.",
        "Next appointment: Tuesday 14 November.",
    ),
    K.AGE: (
        "She is aged ninety-two and sharp as a tack.",
        "She turned 95 last week.",
        "He celebrated his 100th birthday on the ward.",
        "A 101-year-old woman with a chest infection.",
        "She is in her late nineties and still walks daily.",
        "A nonagenarian with new atrial fibrillation.",
        "The only centenarian on my list.",
        "94-yr-old man, lives alone.",
        "Age: 97.",
        "She is 96 and fiercely independent.",
    ),
    K.PHONE: (
        "tel 0161-496-0000",
        "Her mobile is +44 (0) 7700 900 123.",
        "He gave 07700900123 as his number.",
        "Phone (0113) 496 0000 after 6 pm.",
        "Call +1 (212) 555-0199 for the nursing home.",
        "Her cell is 212.555.0199.",
        "The helpline she runs is 1 800 555 0199.",
        "tel 555-0199",
        "fax: 020 7946 0958",
        "mob. 07911 123456",
        "He texted from +447700900123.",
        "Switchboard 0117 496 0123 ext 204.",
    ),
    K.EMAIL: (
        "Send it to JANE.DOE@NHS.NET please.",
        "He uses j.smith+clinic@gmail.com for everything.",
        "Her address is a_b@sub.example.ac.uk.",
        "(email: pat@example.org)",
    ),
    K.URL: (
        "Her story went round as bit.ly/3xYzAbC.",
        "His profile is at linkedin.com/in/jane-doe.",
        "She tweets as https://twitter.com/handle.",
        "The link was t.co/abc123 in the message.",
        "There is a page at www.gofundme.com/f/help-dad.",
        "Watch youtube.com/watch?v=abc123 for the video he made.",
    ),
    K.POSTCODE: (
        "Sent to GIR 0AA by mistake.",
        "Postcode W1A 0AX.",
        "She lives in CF10 1AA.",
        "Address ends sw1a 1aa.",
        "They live in Boston, MA 02115.",
        "Brooklyn, NY 11201-1234 on the form.",
        "Zip: 94105.",
    ),
    K.ADDRESS: (
        "She lives at 12 St John's Road.",
        "He lives at 3 The Crescent with his mother.",
        "Post goes to PO Box 1234.",
        "Apartment 5C, on the top floor.",
        "She lives on Elm Road with her son.",
        "He moved to Mill Lane after the divorce.",
        "Her office is at 350 Fifth Avenue.",
        "They live in Rose Cottage near the church.",
    ),
    K.RECORD_NUMBER: (
        "Hosp No: K1234567",
        "MRN#1234567",
        "SSN: 123 45 6789",
        "Medicare # 1EG4TE5MK73",
        "BUPA membership number 12345678.",
        "Policy number: ABC123456.",
        "NINO QQ123456C on the form.",
        "NI: QQ 12 34 56 C",
        "His passport number 123456789 was on the copy.",
    ),
    K.IP_ADDRESS: (
        "The login came from ::ffff:192.0.2.1 at night.",
        "Router at 10.0.0.1.",
        "Logged from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 twice.",
        "The messages came from 203.0.113.7.",
    ),
}


NAME_SENTENCES = (
    "I saw {} in clinic last week with ongoing chest pain.",
    "{} had been coming to the surgery every fortnight for a year.",
    "The consultant, {}, refused to discuss the scan with the family.",
    "When {} came in, she was tearful and would not sit down.",
    "My registrar and I reviewed {} on the morning ward round.",
    "Her husband insisted that {} should make the decision.",
    "I had inherited {} from a colleague who retired.",
    "{} said he had lost faith in all of us.",
    "The referral letter was signed by {} at the hospice.",
    "I felt irritated every time {} booked a double appointment.",
    "The night nurse told me {} had been shouting again.",
)
DATE_SENTENCES = (
    "DOB {}.",
    "Her date of birth is {} and she lives alone.",
    "He was admitted on {} with chest pain.",
    "She was born {} and has been my patient for twenty years.",
    "The first consultation was on {}.",
    "D.O.B.: {}",
    "He died on {} at home, as he had wished.",
    "Discharged {} with a package of care.",
    "The complaint letter is dated {}.",
    "DOB {}, known to the mental health team.",
)
PARTIAL_DOB_SENTENCES = (
    "DOB {}, lives with her daughter.",
    "She was born in {} in a small village.",
    "Date of birth: {}.",
)
AGE_SENTENCES = (
    "The patient, {}, still drives to the surgery.",
    "A retired teacher, {}, asked me to stop all her tablets.",
    "He is {} and wants everything done.",
    "She is {} and lives alone with her cat.",
    "My patient, {}, with heart failure, refused admission.",
    "I was called to see a man {} who had fallen at home.",
    "Her mother, {}, was the one who really worried me.",
    "A woman with dementia, {}, brought in by her son.",
)
PHONE_SENTENCES = (
    "Her daughter can be reached on {} most evenings.",
    "Tel: {}",
    "He left his mobile number, {}, with the receptionist.",
    "Fax the letter to {} please.",
    "Call {} if there is any change.",
    "The carer's phone number is {}.",
    "She rang me from {} at midnight.",
    "Contact: {} (home).",
)
EMAIL_SENTENCES = (
    "She emailed me from {} at two in the morning.",
    "His wife copied me into a message from {}.",
    "Reply to {} with the results.",
    "Email: {}",
    "He writes to me at {} every week.",
    "The complaint came from {} yesterday.",
)
URL_SENTENCES = (
    "She has been writing about her illness on {}.",
    "His fundraising page is at {}.",
    "The family set up {} to campaign about his care.",
    "He sent me a link to {} about a miracle cure.",
    "You can find her blog at {}.",
    "See {} for the photos his daughter posted.",
)
POSTCODE_SENTENCES = (
    "She lives at {} with her partner.",
    "Postcode {}.",
    "The ambulance was sent to {} by mistake.",
    "He moved to {} after the divorce.",
    "Home address ends in {}.",
)
ZIP_SENTENCES = (
    "She lives in {} with her partner.",
    "They moved to {} last spring.",
    "Her home is in {}, close to the clinic.",
    "Address on file: {}.",
)
ADDRESS_SENTENCES = (
    "She lives at {} with her two sons.",
    "The home visit was to {}.",
    "He was found collapsed outside {}.",
    "They have moved to {}, near the school.",
    "Address: {}.",
    "The police were called to {} twice this month.",
)
NHS_SENTENCES = (
    "NHS number {}.",
    "NHS no: {}",
    "Her NHS number is {}, she said, in case I needed it.",
    "The letter quoted {} as her NHS number.",
    "Patient {} was discussed at the MDT.",
    "I looked up {} on the spine.",
)
RECORD_SENTENCES = (
    "{}, seen in the emergency department.",
    "The discharge summary lists {}.",
    "Please file this under {}.",
    "Her {} was on the front of the notes.",
    "He gave his {} at the front desk.",
)
IP_SENTENCES = (
    "The abusive messages came from IP {}.",
    "The portal logged her in from {}.",
    "IT traced the login to {} at the library.",
    "His IP address, {}, appeared in the audit.",
)


# --- the hard negatives -----------------------------------------------------------------

# Each of these must pass clean: the shorthand of clinical notes that looks, to a careless
# pattern, like a date, a phone number, a postcode or a name.
NEGATIVE_SENTENCES = (
    "BP 140/90, pulse 88 and regular.",
    "A 6/12 history of low mood and poor sleep.",
    "Visual acuity 6/9 in the left eye, 6/6 in the right.",
    "GCS 14/15 on arrival, 15/15 by the evening.",
    "Pain 3/10 at rest, 7/10 on movement.",
    "Started metformin 500 mg twice daily.",
    "HbA1c 48 mmol/mol, up from 42 last year.",
    "She was moved to ward 7 overnight.",
    "A man in his sixties with a long history of back pain.",
    "Last spring he stopped coming to the group.",
    "He has a Dr appointment next week and is anxious about it.",
    "She was seen by the GP on three occasions.",
    "She saw Dr on Tuesday and felt dismissed.",
    "An 89-year-old woman living independently.",
    "She is aged 85 and still gardens every day.",
    "eGFR 45, stable for two years.",
    "Hb 98 g/L, ferritin low.",
    "Temp 38.5 on the evening obs.",
    "Sats 94% on 2L via nasal cannulae.",
    "He is in bed 12 by the window.",
    "It started 2 weeks ago after a chest infection.",
    "In March her mood dropped again.",
    "A woman in her seventies with advanced COPD.",
    "Her grandson reads her the Mr Men books.",
    "She had called NHS 111 twice before coming in.",
    "Insulin 4-6 units with meals.",
    "Seen at 14:30 in the afternoon clinic.",
    "Known to the diabetes team since 2019.",
    "BMI 32.4 and rising.",
    "QTc 480 ms on the admission ECG.",
    "K+ 5.9, repeat sample sent.",
    "T2DM, COPD and CKD stage 3.",
    "ECG showed sinus rhythm with no acute changes.",
    "A man in his fifties with T2DM.",
    "Na 132, urea 9.1, creatinine 145.",
    "CRP 45 and WCC 11.2.",
    "INR 2.5 on warfarin.",
    "PSA 4.2 last month.",
    "Paracetamol 1 g four times a day.",
    "Sertraline 50 mg, increased to 100 mg.",
    "Morphine sulfate 2.5-5 mg as required.",
    "Amoxicillin 500 mg tds for 5/7.",
    "Review in 2/52.",
    "Symptoms for 3/7 before admission.",
    "Power 4/5 in the left arm.",
    "MMSE 24/30, MoCA 22/30.",
    "PHQ-9 score of 18, GAD-7 of 15.",
    "CHA2DS2-VASc score of 4.",
    "Wells score 6, CTPA arranged.",
    "FEV1 1.2 L, 45% predicted.",
    "Peak flow 350 L/min.",
    "Vitamin B12 200 ng/L, folate normal.",
    "Vitamin D3 1000 units daily.",
    "MRI showed an L4/5 disc prolapse.",
    "Pain radiating from C5/6.",
    "Troponin 45 ng/L, then 52 ng/L.",
    "TSH 4.5, free T4 12.3.",
    "BNP 1,200 pg/mL.",
    "Fluids at 125 mL/hr.",
    "Two units of blood transfused.",
    "G3P2, now 32 weeks pregnant.",
    "APGAR 9 at five minutes.",
    "Respiratory rate 22, heart rate 110.",
    "Obs: HR 88, BP 132/84, RR 16, sats 97% on air, T 36.9.",
    "A ward sister raised the concern first.",
    "The nurse practitioner saw him at 09:15.",
    "The Nurse Practitioner had already phoned the family.",
    "The Dr said it was nothing serious.",
    "Mr A, a man in his forties, was angry with me.",
    "Mrs B. She would not let me examine her.",
    "Mr X told me he had not slept for days.",
    "Patient C had three admissions this year.",
    "She asked for a second opinion from another consultant.",
    "Stage 3 CKD with an eGFR between 30 and 59.",
    "Grade 2 pressure ulcer on the sacrum.",
    "A 1 in 4 chance of recurrence, the surgeon said.",
    "He rates the pain at 8 out of 10.",
    "He drinks 30 units of alcohol a week.",
    "She smokes 20 a day, 40 pack-years.",
    "He walks 2-3 miles on a good day.",
    "Lost 5 kg in 3 months.",
    "Weight 72.5 kg, height 1.68 m.",
    "Seen in bay 4 on the acute medical unit.",
    "Booked into theatre 2 for the afternoon list.",
    "Clinic room 3 was double-booked.",
    "The 12-lead ECG was unremarkable.",
    "A 24-hour tape showed runs of AF.",
    "She was nil by mouth for 48 hours.",
    "Wound review every 72 hours.",
    "He uses his inhaler 3-4 times a week.",
    "Aged 90 or over, she would not be offered surgery.",
    "A woman in her eighties with heart failure.",
    "A man in his late sixties, recently widowed.",
    "A teenager brought in by her mother.",
    "A child of primary school age.",
    "In her early thirties, a new mother.",
    "Her COVID-19 test was negative.",
    "SARS-CoV-2 PCR negative on admission.",
    "HIV test offered and declined.",
    "E. coli in the urine, sensitive to nitrofurantoin.",
    "S. aureus grew from the wound swab.",
    "C. diff toxin negative.",
    "A&E attendance after a fall.",
    "The MDT meeting was on a Thursday.",
    "She missed her appointment in June.",
    "He was first referred some years ago.",
    "Things changed after Christmas.",
    "We met again in the new year.",
    "The locum covered the practice for a month.",
    "The FY2 doctor felt out of her depth.",
    "An ST3 registrar was on call.",
    "A Band 6 nurse led the handover.",
    "Level 2 care on the high dependency unit.",
    "The ratio of good days to bad was about 50:50.",
    "Support is available 24/7 from the crisis team.",
    "A 45-year-old man with chest pain.",
    "A 72-year-old widower with diabetes.",
    "She is 78 years old and lives with her sister.",
    "He is 64 yo and works nights.",
    "Aged 89, he still plays bowls.",
    "An 88 year old woman with a hip fracture.",
    "Dose 5 mg/kg every 8 hours.",
    "Adrenaline 1:1000 given IM.",
    "Glucose 14.2 mmol/L at 22:00.",
    "Lactate 3.1, repeat at 02:00.",
    "Ketones 0.4 mmol/L.",
    "Platelets 150, neutrophils 1.2.",
    "ALT 65 U/L, bilirubin 22.",
    "Albumin 28 g/L.",
    "Calcium 2.61, phosphate 0.8.",
    "Magnesium 0.6 mmol/L, replaced.",
    "Urine output 30 mL/hr.",
    "Blood cultures x2 sent.",
    "Chest X-ray: right lower lobe consolidation.",
    "CT head at 03:40 showed no bleed.",
    "Referred to the memory clinic.",
    "Discussed with the on-call psychiatrist.",
    "Section 2 of the Mental Health Act was considered.",
    "DNACPR discussed with her and her family.",
    "ReSPECT form completed.",
    "Her mother died of breast cancer at 52.",
    "Two of her three children live abroad.",
    "He works as a lorry driver.",
    "She teaches at a local primary school.",
    "They moved to the area a few years ago.",
    "She lives in a flat in the town centre.",
    "He lives alone in a terraced house.",
    "Her partner works shifts at the hospital.",
    "We spoke on the phone for 20 minutes.",
    "She emails the practice most weeks.",
    "The family set up a fundraising page.",
    "He spends hours on health forums online.",
    "The receptionist took a message at 8:30.",
    "Next review in 6 weeks.",
    "Follow-up at 3 months.",
    "Follow up in 4-6 weeks.",
    "Seen 3 times in March and twice in April.",
    "Symptoms worse over the last 10 days.",
    "Tablets 1-0-1 after food.",
    "Dose range 0.5-1 mg.",
    "Reduced to 2.5 mg from 5 mg.",
    "Increased from 10 to 20 mg.",
    "A score of 12 on the Epworth scale.",
    "Rockall score 5 after endoscopy.",
    "CURB-65 score of 2.",
    "NEWS2 of 7 at handover.",
    "Waterlow 15, high risk.",
    "MUST score 2.",
    "Frailty score 6 on the Rockwood scale.",
    "He is on a 4-week course of steroids.",
    "A 10-year history of depression.",
    "Her 3rd admission this year.",
    "The 2nd opinion agreed.",
    "ICD-10 F32.1, moderate depressive episode.",
    "DSM-5 criteria were met.",
    "She took 32 paracetamol tablets.",
    "He had 2 seizures overnight.",
    "Hb dropped from 120 to 98.",
    "Lost 3 L of blood in theatre.",
    "Cannula in the left antecubital fossa.",
    "A 16F catheter was passed.",
    "Oxygen at 15 L via non-rebreathe mask.",
    "Nebulised salbutamol 5 mg.",
    "Furosemide 40 mg IV.",
    "Enoxaparin 40 mg once daily.",
    "Atorvastatin 80 mg at night.",
    "Ramipril 2.5 mg, titrated to 10 mg.",
    "Levothyroxine 75 micrograms.",
    "Co-codamol 30/500 two tablets qds.",
    "Gaviscon 10-20 mL after meals.",
    "Oramorph 2.5-5 mg 2-hourly PRN.",
    "Lidocaine 1% for the procedure.",
    "Tramadol 50-100 mg.",
    "Insulin glargine 24 units at 22:00.",
    "NovoRapid 6 units with each meal.",
    "Ward round at 08:00, handover at 20:00.",
    "Night shift 20:00-08:00.",
    "The clinic runs 09:00 to 12:30.",
    "Between 1 and 2 in the morning.",
    "Every 4-6 hours as needed.",
    "Target BP below 130/80.",
    "Cholesterol 6.2, LDL 4.1.",
    "eGFR >90.",
    "Heart rate 40-50 on bisoprolol.",
    "Sats 88-92% target.",
    "FiO2 0.4.",
    "pH 7.31, pCO2 7.2, HCO3 28.",
    "Pupils 3 mm, equal and reactive.",
    "Capillary refill under 2 seconds.",
    "Gestation 38+4 weeks.",
    "Para 2+1.",
    "Fundal height 34 cm.",
    "Birth weight 3.4 kg.",
    "He scored 27/30 on the cognitive test.",
    "The Prof of medicine gave a lecture on it.",
    "Sister on the ward was very kind to her.",
    "The Mrs came with him, as always.",
    "The Doctor on call was busy.",
    "The Matron on duty agreed.",
    "Dr and nurse both present.",
    "Drs on the unit were supportive.",
    "Called by the Dr at 03:00.",
    "She sees the MS nurse every 3 months.",
    "MR on the echo, moderate.",
    "Mild MR and TR.",
    "The IT system was down for 2 hours.",
    "The portal was offline again.",
    "She uses an app to track her mood.",
    "Records show 4 admissions in 12 months.",
    "Her medical record shows 12 previous visits.",
    "No insurance issues this time.",
    "In case no improvement, we will review.",
    "The policy is to review at 6 weeks.",
    "Version 2.1 of the pathway.",
    "Protocol 3.2.1 was followed.",
    "Room 101 was the family room.",
    "The 1960s were a hard time for her family.",
    "In the 1990s she worked as a nurse.",
    "During the 2010s he was well.",
    "Baby aged 91 days, feeding well.",
    "A neonate 96 hours old.",
    "BP 140/90 120/80 130/85 on three visits.",
    "Glucose 5.4, 6.2, 7.8, 11.2, 14.3 over the day.",
    "Insulin 12 14 16 18 20 units over five days.",
    "She called 999, then NHS 111.",
    "Dial 911 in an emergency, we told her.",
    "Extension 4321 for the ward.",
    "Bleep 1234 for the registrar.",
    "dr appt next week.",
    "mr scan booked for the spine.",
    "MS clinic follow-up in 6 months.",
    "A Dr's note for 2 weeks.",
    "Approx. 2 L of fluid drained.",
    "Simple analgesia, e.g. paracetamol, i.e. nothing stronger.",
    "Drug vs. placebo in the trial.",
    "At 0900 hrs on the ward.",
    "Patients aged 90 and over are seen at home.",
    "A ward for patients aged 90+.",
    "Viral load 12000 copies/mL.",
    "Platelets 150 000 on the count.",
    "CD4 count 350.",
    "The 2019-2020 flu season was bad.",
    "Flu vaccine 2019/20 given.",
    "20/20 vision in both eyes.",
    "Half a tablet, 1/2 at night.",
    "She is 12/52 pregnant.",
    "Day 3 post-op, mobilising.",
    "POD 2, eating and drinking.",
    "Bay 3, bed 4.",
    "Transferred to Ward 4B.",
    "Heart sounds S1 S2 + 0.",
    "L5/S1 disc prolapse.",
    "T12 wedge fracture.",
    "Vitamin B12 injections every 12 weeks.",
    "HbA1c 7.2% in the US units.",
    "Sodium valproate 500 mg bd.",
    "Hb 120, 110, then 98 over three days.",
    "She lives with her daughter and son-in-law.",
    "He was born abroad and came here as a child.",
    "DOB withheld at her request.",
    "NHS number removed from the letter.",
    "A man aged about 60.",
    "Aged in her late fifties.",
    "He is 91% adherent to his inhalers.",
    "She scored 95 on the Barthel index.",
    "The patient is 92 kg.",
    "Age-related macular degeneration.",
    "She has had 3 miscarriages, the last at 10/40.",
    "Seen in the 2 Week Wait clinic.",
    "BP 180/110 at triage, 160/95 after 1 hour.",
    "Reviewed on the Day 5 Ward Round.",
    "Sodium 128 on 3/1, 131 on 5/1.",
    "Dose: 1.5 mg/kg/day in 3 divided doses.",
    "GP Dr Appt Friday.",
    "Prof Dev session on Wednesday.",
    "She loves Doctor Who.",
    "The Balint group met on the 2nd Wednesday.",
    "Temp 39.1 C, HR 130, RR 30, BP 85/50.",
    "ABG on 15 L: pO2 8.1, pCO2 4.2.",
    "Gait: 10 m walk in 14 s.",
    "Her daughter lives 200 miles away.",
    "Level 5, Tower Block.",
    "Block A, Room 12.",
    "Seen at 10.30 am.",
    "Follow-up at 3/12 with bloods.",
    "Staging T2 N1 M0.",
    "Gleason 3+4=7.",
    "ER+ PR+ HER2-.",
    "Grade 3/6 murmur.",
    "He was 50 when his wife died.",
    "Born in the 1930s, she remembers the war.",
    "The Mrs brought him in.",
    "She quoted NICE NG28.",
    "SNOMED code 73211009.",
    "Drug chart v2.3.1.",
    "WCC 15.6 x 10^9/L.",
    "He is 92 kg and breathless.",
    "She is 95% sure it started after the fall.",
    "He was 100 units short of his usual dose.",
    # Narrative, the way a Balint case is usually written.
    "I want to bring a patient who has been coming to see me for about two years.",
    "She is a woman in her late forties who works in a school office.",
    "Her husband left last winter and she has struggled since.",
    "She comes every two or three weeks, always with a new symptom.",
    "Last time it was chest pain; the ECG was normal, as were her bloods.",
    "I found myself dreading her name on my list.",
    'At the end of the 10-minute appointment she said, "by the way, I think I want to die".',
    "I extended the consultation to 25 minutes and the waiting room filled up.",
    "She has two teenage children and a dog she adores.",
    "Her mother had dementia and died in a care home three years ago.",
    "I referred her to the community mental health team in March, but she did not attend.",
    "She scored 19 on the PHQ-9 and 14 on the GAD-7.",
    "We started sertraline 50 mg and I asked her to come back in 2 weeks.",
    "She came back after 10 days, furious that she felt worse.",
    "I felt defensive, as if she was blaming me personally.",
    "My trainer said I was too soft with her.",
    "The practice nurse finds her demanding too.",
    "She asked for a home visit on a Friday afternoon at 5 pm.",
    "I said no, and felt guilty all weekend.",
    "On Monday she had been to A&E twice.",
    'The discharge letter said "frequent attender, no acute pathology".',
    "I keep wondering what she wants from me.",
    "Maybe I remind her of someone.",
    "She once said I was the only doctor who listened.",
    "That made me feel trapped rather than pleased.",
    "I have been a GP for 12 years and I still don't know how to end these consultations.",
    "The group might help me think about why she gets under my skin.",
    "He is a retired builder in his seventies with COPD and heart failure.",
    "His daughter phones the surgery almost daily.",
    "He says he wants to be left alone; she wants everything done.",
    "The DNACPR conversation went badly.",
    "He told me he had fought in a war and was not afraid of dying.",
    "His daughter accused me of giving up on him.",
    "I felt caught in the middle of a family argument.",
    "The palliative care nurse visited twice last week.",
    "He is on morphine 10 mg twice daily and sleeps most of the day.",
    "I saw him on a Tuesday and he was lucid and funny.",
    "By Thursday he was confused and agitated.",
    "The out-of-hours doctor gave him midazolam 2.5 mg.",
    "The daughter complained to the practice manager.",
    "She emailed the practice and copied in the local paper.",
    "I have not slept well since.",
    "A 34-year-old woman, 28 weeks pregnant, with a history of self-harm.",
    "She was admitted under section 2 after a serious overdose.",
    "On the ward she refused all bloods.",
    "The registrar wanted to restrain her; I did not.",
    "She told me about her childhood at 3 am on a night shift.",
    "I still think about her on my way home.",
    "Dr on call said we should involve safeguarding.",
    "We discussed her at the Tuesday MDT.",
    "Her BMI was 16.5 and falling.",
    "Her potassium was 2.9 on admission.",
    "We replaced it over 24 hours.",
    "Aged 17, she had already been in care for most of her life.",
    "Her social worker changed three times in a year.",
    "She said no one ever stays.",
)

OPENINGS = (
    "A woman in her forties",
    "A man in his thirties",
    "A retired teacher",
    "A young mother",
    "An older man",
    "A student",
    "A carer",
    "A man in his seventies",
    "A woman in her fifties",
    "A widower",
)
CONDITIONS = (
    "with T2DM and an HbA1c of {a} mmol/mol",
    "with COPD and sats {b}% on air",
    "with heart failure and an eGFR of {c}",
    "with a {d}/12 history of fatigue",
    "with BP {e}/{f} on three readings",
    "with pain {g}/10 despite co-codamol",
    "on sertraline {h} mg",
    "with a BMI of {i}.{j}",
    "with a QTc of {k} ms",
    "with K+ {l}.{j} on the morning bloods",
)
EVENTS = (
    "was seen at {m}:{n} in the clinic.",
    "came back {o} weeks later.",
    "was moved to ward {p}.",
    "was reviewed in bay {p}.",
    "said the pain had started {o} days ago.",
    "asked for a double appointment.",
    "was booked for review in {o}/52.",
    "had {o} admissions last winter.",
    "has needed {q}-{r} units of insulin a day.",
    "rang NHS 111 at the weekend.",
)


def _negatives(values: Values) -> list[str]:
    rng = values.rng
    found = list(NEGATIVE_SENTENCES)
    seen = set(found)
    while len(found) < len(NEGATIVE_SENTENCES) + GENERATED_NEGATIVES:
        numbers = {
            "a": rng.randrange(38, 90),
            "b": rng.randrange(85, 99),
            "c": rng.randrange(15, 90),
            "d": rng.randrange(1, 12),
            "e": rng.randrange(100, 190),
            "f": rng.randrange(60, 110),
            "g": rng.randrange(1, 11),
            "h": rng.choice((25, 50, 100, 150, 200)),
            "i": rng.randrange(18, 45),
            "j": rng.randrange(10),
            "k": rng.randrange(380, 520),
            "l": rng.randrange(3, 7),
            "m": f"{rng.randrange(8, 19):02}",
            "n": rng.choice(("00", "15", "30", "45")),
            "o": rng.randrange(2, 10),
            "p": rng.randrange(1, 30),
            "q": rng.randrange(2, 10),
            "r": rng.randrange(10, 40),
        }
        job = values.gb.job().split(",")[0].lower()
        sentence = f"{rng.choice(OPENINGS)} {rng.choice(CONDITIONS)} {rng.choice(EVENTS)}".format(
            **numbers
        )
        if rng.random() < 0.3:
            sentence += f" Works as a {job}."
        if sentence not in seen:
            seen.add(sentence)
            found.append(sentence)
    return found
