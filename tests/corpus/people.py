"""Made-up people for the personal-data tests: NHS numbers by the modulus-11 algorithm, names, birthdays, postcodes.

Every value is invented (deterministic for a seed); the NHS numbers are valid by their check digit only.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

# Examples used in NHS documentation and test data (999 is the range set aside for tests): valid by the check digit.
KNOWN_VALID = ("9434765919", "4010232137", "9434765870", "9990000018")
# One digit off a valid number, or a nine-digit start whose check digit would be 10 (no valid number exists).
KNOWN_INVALID = ("9434765918", "4010232138", "9434765871", "1000000010", "1000000011", "4857312345")

GIVEN = ("John", "Mary", "Mohammed", "Aisha", "David", "Sophie", "Oliver", "Chloe", "Tunde", "Agnieszka", "Sarah",
         "Liam", "Priya", "George", "Fatima", "Jack", "Emily", "Kwame", "Niamh", "Piotr")
FAMILY = ("Smith", "Jones", "Patel", "Okafor", "Kowalski", "O'Brien", "McDonald", "Nguyen", "Williams", "Khan",
          "Brown", "Taylor", "Ahmed", "Mensah", "Evans", "Murphy", "Hughes", "Begum", "Clarke", "Wilson")
POSTCODES = ("E8 1DY", "N16 7AB", "EC2A 4NE", "E5 0LL", "SW1A 1AA", "E9 6SR", "N1 5QJ", "E2 8HH", "EC1V 9NR",
             "E17 4PB")


def check_digit(nine: str) -> int | None:
    """The NHS number check digit for nine digits, or None when it would be 10 (no valid number)."""
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    return None if check == 10 else 0 if check == 11 else check


def valid_nhs_numbers(count: int, seed: int = 0) -> list[str]:
    """`count` valid NHS numbers (400 000 0000 to 799 999 9999, as England issues them)."""
    rng = random.Random(f"nhs:{seed}")
    found: list[str] = []
    while len(found) < count:
        nine = str(rng.randint(400_000_000, 799_999_999))
        check = check_digit(nine)
        if check is not None and len(set(nine + str(check))) > 1:
            found.append(nine + str(check))
    return found


def invalid_nhs_numbers(count: int, seed: int = 0) -> list[str]:
    """`count` ten-digit numbers that fail the check: a valid number's last digit changed, or a start with no
    valid check digit."""
    rng = random.Random(f"not-nhs:{seed}")
    found: list[str] = []
    while len(found) < count:
        nine = str(rng.randint(100_000_000, 999_999_999))
        check = check_digit(nine)
        last = rng.choice([d for d in range(10) if d != check])
        found.append(nine + str(last))
    return found


def spaced(number: str, sep: str = " ") -> str:
    """`9434765919` as people write it: `943 476 5919`."""
    return f"{number[:3]}{sep}{number[3:6]}{sep}{number[6:]}"


def people(count: int, seed: int = 0) -> list[dict[str, object]]:
    """Rows of a made-up client list: names, date of birth, NHS number, postcode, quit date."""
    rng = random.Random(f"people:{seed}")
    numbers = valid_nhs_numbers(count, seed)
    rows = []
    for n in range(count):
        born = date(1940, 1, 1) + timedelta(days=rng.randint(0, 65 * 365))
        rows.append({"forename": rng.choice(GIVEN), "surname": rng.choice(FAMILY), "dob": born,
                     "nhs": numbers[n], "postcode": rng.choice(POSTCODES),
                     "quit_date": date(2025, 4, 1) + timedelta(days=rng.randint(0, 90))})
    return rows
