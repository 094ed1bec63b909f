"""A labelled SYNTHETIC evaluation set for de-identification (generated, deterministic).

Answers imitate NHS staff-survey free text about racism at work: sentences drawn from
templates, some holding an identifier in a slot whose span is recorded (gold spans).
Every name, number and address is invented: phone numbers are Ofcom drama numbers
(07700 900xxx, 0113 496 0xxx), e-mails use example.org / example.nhs.uk, NHS numbers
are computed from random digits (a few with a deliberately wrong check digit), NI
numbers use the unissued "QQ" prefix.

Gold spans have a ``group``:

``listed``
    A name on the team's list (:data:`LISTED_NAMES`) or one of its parts, with its
    title when one precedes it ("Dr Khan": the title is masked with the name).
``pattern``
    Identifiers found by pattern: e-mail (also spelled out), phone and extension,
    NHS, NI and staff numbers, postcodes, URLs, dates of birth and years of birth, and
    names after a title (title included). For numbers after a cue only the number is
    gold ("ext [PHONE]", "staff no. [STAFF_ID]", "born in [DATE]").
``unlisted``
    Names nobody listed, without a title: the review list must hold them.

Distractors that are NOT identifiers (and must stay visible): pay bands ("Band 6"),
ward and room numbers ("ward 12": too coarse to identify a person on their own in a
trust-wide survey; a researcher who disagrees adds them to a list), percentages,
counts, durations, scores, times, meeting dates without a year ("on 12 March"),
years without a birth cue ("since 2019"), acronyms (NHS, WRES, BAME), and the names
of the caucuses ("White Caucus").

Run ``python tests/data/deidentify/evalset.py`` to print a few answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

SEED = 20240611

LISTED_NAMES = [
    "Amir Khan", "Sam Taylor", "Priya Patel", "Kwame Mensah", "Siobhán O'Neill",
    "Tomasz Nowak", "Aisha Begum", "Chidi Okafor", "Mei Lin Chen", "Fatima Hussain",
    "Grace Adeyemi", "Joy Williams", "Rahul Sharma", "Olena Kovalenko", "Hamza Ali",
]  # fmt: skip
ORGANISATIONS = ["Northshire Community NHS Trust", "Riverside Talking Therapies", "Westgate PCN"]

# names nobody listed (none of them an ordinary English word)
UNLISTED_FIRST = [
    "Marek", "Łukasz", "Oluwaseun", "Chiamaka", "Thandiwe", "Bogdan", "Ngozi", "Farhan",
    "Anjali", "Dariusz", "Efua", "Ikechukwu", "Zainab", "Mohammed", "Yusuf", "Agnieszka",
    "Jasmeet", "Kofi", "Aoife", "Niamh", "Rhiannon", "Declan", "Tariq", "Shabnam",
]  # fmt: skip
UNLISTED_LAST = [
    "Zieliński", "Kowalczyk", "Adebayo", "Okonkwo", "Nwosu", "Dlamini", "Rahman",
    "Chaudhry", "Mahmood", "Wiśniewski", "Asante", "Boateng", "Nguyễn", "Iqbal", "Siddiqui",
    "Szymańska", "Gallagher", "Ó Briain", "Mbeki", "Qureshi",
]  # fmt: skip
TITLES = ["Dr", "Dr.", "Mr", "Mrs", "Ms", "Miss", "Mx", "Prof", "Professor", "Nurse", "Matron",
          "Sister", "Rev", "Sir", "Dame", "Lord", "Lady"]  # fmt: skip

FILLERS = [
    "I am a Band 6 nurse on ward 12 and have worked here since 2019.",
    "About 50% of my team are from minoritised backgrounds.",
    "We met on 12 March and again in the spring.",
    "The White Caucus session felt slow this time.",
    "I work nights, 3 shifts a week, 11.5 hours each.",
    "Our WRES data still shows a 20% gap in who gets shortlisted.",
    "Covid-19 changed everything for the Black and Asian staff I know.",
    "The 1:1 sessions with my manager happen every 2 weeks.",
    "The Level 3 training helped and I scored it 8/10.",
    "The caucus meets in room 4 at 10:30 on the first Tuesday.",
    "It is 24/7 care and the rota changes every 6 weeks.",
    "I have worked in the NHS for 15 years and in this trust for 4.",
    "Nobody on the Band 7 interview panel looked like me.",
    "Racism is still treated as a personality clash by HR.",
    "It helped to hear that others had the same experience.",
    "I felt heard in the Racially Minoritised Caucus, maybe for the first time.",
    "Around 30 people came, which is more than last year.",
    "Silence in the room is not neutral.",
    "I will take this back to my team meeting on Thursday.",
    "The facilitators held the space with real care.",
    "My confidence went from 2 to 7 out of 10 over the 6 sessions.",
    "Agency staff on ward 3 get the worst shifts, again and again.",
    "In 2020 and 2021 the conversations felt more honest.",
    "I would rate the session 4 stars out of 5.",
    "The BAME network has 120 members across 9 sites.",
    "We need action, not another survey.",
    "I reported it twice and heard nothing for 3 months.",
    "Being one of 2 Black nurses on the unit is exhausting.",
    "The Trust board talks about inclusion but the data say otherwise.",
    "We discussed the Freedom to Speak Up process and the 5-step guide.",
]


def _nhs(rng: random.Random, valid: bool) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        digits[0] = rng.choice([4, 6, 7])
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1), strict=True))
        check = (11 - total % 11) % 11
        if check == 10:
            continue
        last = check if valid else (check + rng.randint(1, 9)) % 10
        if not valid and total % 11 in (0, 1):
            continue
        s = "".join(map(str, digits)) + str(last)
        return rng.choice([s, f"{s[:3]} {s[3:6]} {s[6:]}", f"{s[:3]}-{s[3:6]}-{s[6:]}"])


def _postcode(rng: random.Random) -> str:
    area = rng.choice(["LS", "NE", "YO", "HU", "DL", "S", "BD", "HG"])
    inward = f"{rng.randint(0, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    sep = rng.choice([" ", " ", "", "  "])
    return f"{area}{rng.randint(1, 29)}{sep}{inward}"


@dataclass
class Answer:
    """One synthetic answer and its gold identifier spans ``(start, end, kind, group)``."""

    text: str
    spans: list[tuple[int, int, str, str]] = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str, str]] = []
        self.pos = 0

    def add(self, s: str, kind: str | None = None, group: str | None = None) -> None:
        if kind is not None:
            self.spans.append((self.pos, self.pos + len(s), kind, group or "pattern"))
        self.parts.append(s)
        self.pos += len(s)


def _identifier_sentence(rng: random.Random, b: _Builder) -> None:
    """Append one sentence that holds one identifier."""
    first_l, last_l = rng.choice(LISTED_NAMES).rsplit(" ", 1)
    uf, ul = rng.choice(UNLISTED_FIRST), rng.choice(UNLISTED_LAST)
    n = rng.randint(0, 999)
    kind = rng.choice(
        ["listed", "listed", "listed", "titled", "titled", "unlisted", "unlisted", "unlisted",
         "email", "email_obf", "phone", "ext", "nhs", "nhs_bad", "ni", "staff", "postcode",
         "dob", "yob", "url", "org"]
    )  # fmt: skip
    if kind == "listed":
        form = rng.choice(["full", "first", "title_last", "possessive"])
        if form == "full":
            b.add("I spoke to ")
            b.add(f"{first_l} {last_l}", "NAME", "listed")
            b.add(" about it and felt listened to.")
        elif form == "first":
            b.add("Thank you to ")
            b.add(first_l, "NAME", "listed")
            b.add(" for holding the space.")
        elif form == "title_last":
            b.add("Afterwards ")
            b.add(f"{rng.choice(['Dr', 'Ms', 'Mr', 'Matron'])} {last_l}", "NAME", "listed")
            b.add(" checked in with me.")
        else:
            b.add(f"{first_l}", "NAME", "listed")
            b.add("'s comment about accountability stayed with me.")
    elif kind == "titled":
        title = rng.choice(TITLES)
        name = rng.choice([ul, f"{uf} {ul}"])
        b.add(rng.choice(["On our unit ", "I was told by ", "It was ", "Then "]))
        b.add(f"{title} {name}", "NAME")
        b.add(rng.choice([" who made the comment.", " who said nothing.", "'s decision."]))
    elif kind == "unlisted":
        form = rng.choice(["start", "mid", "full_mid", "full_start"])
        if form == "start":
            b.add(uf, "NAME", "unlisted")
            b.add(" said it was not racism, just banter.")
        elif form == "mid":
            b.add("I raised it with ")
            b.add(uf, "NAME", "unlisted")
            b.add(" but nothing changed.")
        elif form == "full_mid":
            b.add("My line manager ")
            b.add(f"{uf} {ul}", "NAME", "unlisted")
            b.add(" was dismissive.")
        else:
            b.add(f"{uf} {ul}", "NAME", "unlisted")
            b.add(" in HR never replied.")
    elif kind == "email":
        b.add("You can reach me at ")
        b.add(f"{first_l.lower()}.{n}@example.{rng.choice(['org', 'nhs.uk', 'net'])}", "EMAIL")
        b.add(" if you want to follow up.")
    elif kind == "email_obf":
        local = uf.lower().replace("ł", "l")
        form = rng.choice(
            [f"{local} at example dot org", f"{local} [at] example [dot] org",
             f"{local}(at)example(dot)co(dot)uk", f"{local} AT example DOT nhs DOT uk"]
        )  # fmt: skip
        b.add("Email ")
        b.add(form, "EMAIL")
        b.add(" for the notes.")
    elif kind == "phone":
        b.add("Call me on ")
        b.add(
            rng.choice([f"07700 900{n:03d}", f"0113 496 0{n:03d}", f"+44 7700 900{n:03d}"]), "PHONE"
        )
        b.add(" if you want to talk.")
    elif kind == "ext":
        cue = rng.choice(["ext ", "ext. ", "extension ", "bleep ", "pager "])
        b.add(f"I am on {cue}")
        b.add(f"{rng.randint(1000, 9999)}", "PHONE")
        b.add(" most days.")
    elif kind in ("nhs", "nhs_bad"):
        b.add(rng.choice(["My NHS number is ", "NHS no. ", "nhs number: "]))
        b.add(_nhs(rng, kind == "nhs"), "NHS_NUMBER")
        b.add(", in case it matters.")
    elif kind == "ni":
        b.add(rng.choice(["My NI number is ", "National Insurance ", "NI no. "]))
        d = f"{rng.randint(0, 99):02d} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"
        b.add(
            rng.choice(
                [f"QQ {d} {rng.choice('ABCD')}", f"QQ{d.replace(' ', '')}{rng.choice('ABCD')}"]
            ),
            "NI_NUMBER",
        )
        b.add(" for the records.")
    elif kind == "staff":
        cue, value = rng.choice(
            [("staff no. ", f"{rng.randint(10000000, 99999999)}"),
             ("payroll number ", f"{rng.randint(1000000, 9999999)}"),
             ("employee ID ", f"E{rng.randint(100000, 999999)}"),
             ("assignment number ", f"{rng.randint(10000000, 99999999)}")]
        )  # fmt: skip
        b.add(f"My {cue}")
        b.add(value, "STAFF_ID")
        b.add(" is on the form.")
    elif kind == "postcode":
        b.add("I live near ")
        b.add(_postcode(rng), "POSTCODE")
        b.add(" so the commute is long.")
    elif kind == "dob":
        b.add(rng.choice(["DOB ", "Date of birth: ", "I was born on "]))
        b.add(rng.choice([f"{rng.randint(1, 28)}/0{rng.randint(1, 9)}/19{rng.randint(60, 99)}",
                          f"{rng.randint(1, 28)} March 19{rng.randint(60, 99)}"]), "DATE")  # fmt: skip
        b.add(".")
    elif kind == "yob":
        b.add(rng.choice(["I was born in ", "DOB ", "(b. ", "I was born back in "]))
        b.add(f"19{rng.randint(60, 99)}", "DATE")
        b.add(rng.choice([" and grew up here.", ".", ")"]))
    elif kind == "url":
        b.add("My blog is at ")
        b.add(
            rng.choice(
                [
                    f"https://example.org/blog/{n}",
                    f"www.example.com/{uf.lower()}",
                    "example.nhs.uk/staff",
                ]
            ).replace("ł", "l"),
            "URL",
        )
        b.add(" if anyone is interested.")
    else:
        b.add("At ")
        b.add(rng.choice(ORGANISATIONS), "ORGANISATION", "listed")
        b.add(" it is different.")


def generate(n: int = 600, seed: int = SEED) -> list[Answer]:
    """Generate ``n`` answers (deterministic for a given ``seed``)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        b = _Builder()
        k = rng.randint(1, 4)
        n_ids = rng.choice([0, 1, 1, 1, 2])
        slots = ["f"] * k + ["i"] * n_ids
        rng.shuffle(slots)
        for i, slot in enumerate(slots):
            if i:
                b.add(" ")
            if slot == "f":
                b.add(rng.choice(FILLERS))
            else:
                _identifier_sentence(rng, b)
        out.append(Answer("".join(b.parts), b.spans))
    return out


if __name__ == "__main__":
    for a in generate(8):
        print(a.text)
        for s, e, kind, group in a.spans:
            print(f"   {group:8s} {kind:12s} {a.text[s:e]!r}")
