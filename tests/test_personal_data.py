"""A return that looks like it holds personal data is refused with one finding that names positions, never values;
aggregate returns (every shipped framework's template, filled in) are never taken for one."""

from __future__ import annotations

import csv
import io
from datetime import date
from fractions import Fraction

import openpyxl
import pytest
from corpus.filling import TINY_FRAMEWORK, fill
from corpus.people import (
    FAMILY,
    GIVEN,
    KNOWN_INVALID,
    KNOWN_VALID,
    POSTCODES,
    check_digit,
    invalid_nhs_numbers,
    people,
    spaced,
    valid_nhs_numbers,
)

from bot.reports.samples import sample_return_csv
from bot.workbooks.template import build_template
from kpi_core import loader, samples
from kpi_core.assess import assess
from kpi_core.calendar import PERIODS_PER_YEAR, parse_period
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.personal_data import MAX_ROWS, is_nhs_number
from kpi_core.returns.reader import read_return
from kpi_core.returns.safety import Limits

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)
TEMPLATE = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd", period=Q1)
FIGURES = {("starts", ""): 40, ("quits", ""): 20, ("satisfaction", ""): 80, ("policy", ""): "Yes"}


def refused(parsed: ParsedReturn) -> str:
    """The `where` of the one personal-data finding; fails unless that is all the file got."""
    assert parsed.personal_data and parsed.unreadable and not parsed.entries
    [finding] = parsed.findings
    assert finding.code == "personal_data" and finding.is_error
    assert "aggregate figures only" in finding.fix
    return finding.where


def read_csv(rows: list[list[object]], name: str = "r.csv", **limits: int) -> ParsedReturn:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return read_return(out.getvalue().encode(), name, limits=Limits(**limits) if limits else None)


def workbook(extra: dict[str, list[list[object]]] | None = None, figures: dict[tuple[str, str], object] | None = None,
             ) -> bytes:
    """The tiny template filled in, with extra sheets of rows (from A1)."""
    data = fill(TEMPLATE, {**FIGURES, **(figures or {})}, TINY)
    if not extra:
        return data
    book = openpyxl.load_workbook(io.BytesIO(data))
    for title, rows in extra.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ----------------------------------------------------------------------------- the NHS number check

VALID = list(KNOWN_VALID) + valid_nhs_numbers(300)
INVALID = list(KNOWN_INVALID) + invalid_nhs_numbers(300)


def test_the_test_set_is_checked_against_an_independent_check_digit() -> None:
    assert all(check_digit(n[:9]) == int(n[9]) for n in VALID)
    assert all(check_digit(n[:9]) != int(n[9]) for n in INVALID)
    assert check_digit("100000001") is None  # a start with no valid number: every ending is invalid


def test_every_valid_nhs_number_passes_the_modulus_11_check_and_every_wrong_check_digit_fails() -> None:
    assert [n for n in VALID if not is_nhs_number(n)] == []
    assert [n for n in INVALID if is_nhs_number(n)] == []


@pytest.mark.parametrize("number", ["0000000000", "1111111111", "943476591", "94347659190", "943476591x", "９４３４７６５９１９"])
def test_repeated_digits_and_anything_not_ten_ascii_digits_is_not_an_nhs_number(number: str) -> None:
    assert not is_nhs_number(number)


FORMS = {
    "plain text": lambda n: n,
    "spaces": lambda n: spaced(n),
    "dashes": lambda n: spaced(n, "-"),
    "in a sentence": lambda n: f"NHS no. {spaced(n)} (checked)",
    "excel float text": lambda n: f"{n}.0",
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("number", KNOWN_VALID[:2] + tuple(valid_nhs_numbers(3, seed=9)))
def test_a_valid_nhs_number_anywhere_in_a_csv_is_refused_in_any_form(number: str, form: str) -> None:
    text = FORMS[form](number)
    where = refused(read_csv([["item", "breakdown", "value"], ["starts", "", "40"], ["quits", "", text]]))
    assert where == "line 3, column 3"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("number", KNOWN_INVALID)
def test_the_same_forms_with_a_wrong_check_digit_are_read_as_usual(number: str, form: str) -> None:
    parsed = read_csv([["item", "breakdown", "value"], ["starts", "", "40"], ["quits", "", FORMS[form](number)]])
    assert not parsed.personal_data
    assert len(parsed.entries) == 2


@pytest.mark.parametrize("as_number", [True, False], ids=["number", "text"])
def test_a_valid_nhs_number_in_a_workbook_figure_cell_is_refused_where_it_sits(as_number: bool) -> None:
    number = KNOWN_VALID[0]
    where = refused(read_return(workbook(figures={("quits", ""): int(number) if as_number else number}), "r.xlsx"))
    assert where == "Data!E6"


def test_a_ten_digit_count_that_fails_the_check_is_a_figure_not_personal_data() -> None:
    # 4857312345 fails the check (its check digit would be 4): read as a count; 4857312344 passes and is refused.
    result = assess(TINY, Q1, read_return(workbook(figures={("starts", ""): 4857312345}), "r.xlsx"))
    assert result.interpretation.values[("starts", "")] == 4857312345
    assert refused(read_return(workbook(figures={("starts", ""): 4857312344}), "r.xlsx")) == "Data!E5"


@pytest.mark.parametrize("text", ["52.9434765919", "0.4010232137", "1,943,476,591", "943476591.9", "+449434765919",
                                  "9434765919123"])
def test_digits_after_a_decimal_point_or_inside_a_longer_number_are_not_an_nhs_number(text: str) -> None:
    parsed = read_csv([["item", "breakdown", "value"], ["satisfaction", "", text]])
    assert not parsed.personal_data


def test_under_an_nhs_number_heading_any_ten_digit_number_counts() -> None:
    rows = [["Client", "NHS No"], ["A", KNOWN_INVALID[0]]]
    assert refused(read_return(workbook({"List": rows}), "r.xlsx")) == "sheet 5, cell B2"


# ----------------------------------------------------------------------------- names, birthdays, postcodes

@pytest.mark.parametrize("heading", ["Name", "Surname", "First name", "Client name", "Patient's name", "FORENAME",
                                     "Service user name"])
def test_three_entries_under_a_name_heading_are_refused(heading: str) -> None:
    rows = [["Ref", heading], [1, "Okafor"], [2, "Kowalski"], [3, "Begum"]]
    assert refused(read_return(workbook({"Sheet1": rows}), "r.xlsx")) == "sheet 5, cell B2"


def test_one_or_two_names_under_a_heading_are_someone_signing_the_return_not_a_list() -> None:
    rows = [["Completed by"], ["Name"], ["Jane Smith"], ["Role"]]
    assert not read_return(workbook({"Sign-off": rows}), "r.xlsx").personal_data


@pytest.mark.parametrize("names", [
    [f"{g} {f}" for g, f in zip(GIVEN[:5], FAMILY)],
    [f"{f.upper()}, {g}" for g, f in zip(GIVEN[5:10], FAMILY)],
    ["Mrs Patel", "Mr Jones", "Ms Okafor", "Dr Evans"],
], ids=["given family", "FAMILY, given", "titles"])
def test_a_column_shaped_like_names_is_refused_without_a_heading(names: list[str]) -> None:
    rows = [[name, n] for n, name in enumerate(names)]
    assert refused(read_csv(rows)) == "line 1, column 1"


@pytest.mark.parametrize("labels", [
    ["Stoke Newington", "Hackney Central", "Dalston Junction", "Victoria Park", "Homerton Hospital", "London Fields"],
    ["White British", "Black Caribbean", "Mixed White and Asian", "Any other ethnic group", "Not known"],
    ["Breathe Easy Stop Smoking CIC", "City and Hackney Stop Smoking Service", "Jane Smith Pharmacy",
     "John Street Surgery"],
], ids=["places", "ethnic groups", "organisations"])
def test_places_categories_and_organisations_are_not_names(labels: list[str]) -> None:
    rows = [["item", "breakdown", "value"]] + [["starts", f"area={label}", n] for n, label in enumerate(labels)]
    assert not read_csv(rows).personal_data


@pytest.mark.parametrize("heading", ["DOB", "D.O.B.", "Date of birth", "Date of Birth (dd/mm/yyyy)", "Birth date"])
def test_a_date_under_a_date_of_birth_heading_is_refused(heading: str) -> None:
    assert refused(read_csv([["Ref", heading], ["1", "14/02/1961"]])) == "line 2, column 2"


@pytest.mark.parametrize("dates", [
    [date(1950, 3, 1), date(1972, 8, 19), date(1999, 12, 31), date(1988, 1, 5)],
    ["01/03/1950", "19/08/1972", "31/12/1999"],
    ["1950-03-01", "1972-08-19", "1999-12-31"],
    ["1 March 1950", "19 Aug 1972", "31st December 1999"],
], ids=["date cells", "dd/mm/yyyy", "iso", "words"])
def test_a_column_of_dates_spanning_decades_is_refused_as_birthdays(dates: list[object]) -> None:
    rows = [["Ref", "When"]] + [[n, d] for n, d in enumerate(dates)]
    assert refused(read_return(workbook({"Dates": rows}), "r.xlsx")) == "sheet 5, cell B2"


def test_event_dates_within_a_year_or_two_are_not_birthdays() -> None:
    rows = [["Session", "Date"]] + [[n, date(2025, 4, 1 + n)] for n in range(20)] + [["Next", date(2026, 9, 1)]]
    assert not read_return(workbook({"Sessions": rows}), "r.xlsx").personal_data


def test_three_full_postcodes_in_a_column_or_one_under_a_postcode_heading_are_refused() -> None:
    assert refused(read_csv([[p] for p in POSTCODES[:3]])) == "line 1, column 1"
    assert refused(read_csv([["Postcode"], ["n16 7ab"]])) == "line 2, column 1"
    assert refused(read_csv([["Address"], ["1 Mare Street, London E8 1DY"]])) == "line 2, column 1"


def test_postcode_districts_and_a_single_site_address_are_not_personal_data() -> None:
    rows = [["item", "breakdown", "value"], ["starts", "postcode=E8", 10], ["starts", "postcode=N16", 12],
            ["starts", "postcode=EC2A", 3], ["# Service at 1 Mare Street, E8 1DY"]]
    assert not read_csv(rows).personal_data


# ----------------------------------------------------------------------------- rows

def test_more_filled_rows_than_any_return_has_figures_is_refused_with_the_bound_named() -> None:
    rows = [["item", "breakdown", "value"]] + [[f"item_{n}", "", n] for n in range(60)]
    assert not read_csv(rows[:50], max_rows=50).personal_data
    parsed = read_csv(rows, max_rows=50)
    assert refused(parsed) == "line 1"
    assert "the file has more than 50 lines" in parsed.findings[0].message


def test_the_default_row_bound_leaves_room_for_four_times_any_shipped_framework_s_year_of_figures() -> None:
    largest = 0
    for framework in loader.shipped().values():
        for return_id, spec in framework.returns.items():
            items = [i for i in framework.items_for(return_id) if i.source == "provider"]
            figures = sum(1 + sum(len(framework.disaggregations[d].categories) for d in i.breakdowns)
                          for i in items)
            largest = max(largest, figures * PERIODS_PER_YEAR[spec.frequency])
    assert 4 * largest <= MAX_ROWS


def test_a_workbook_sheet_with_too_many_rows_is_refused() -> None:
    rows = [["Ref", "Seen"]] + [[f"C{n:05d}", "yes"] for n in range(60)]
    parsed = read_return(workbook({"Log": rows}), "r.xlsx", limits=Limits(max_rows=50))
    assert refused(parsed) == "sheet 5, cell A1"  # a sheet the sender added is called by its number, not its name
    assert "sheet 5 has more than 50 filled rows" in parsed.findings[0].message


# ----------------------------------------------------------------------------- what the refusal says and keeps

CORPUS_LISTS = ["client_list.csv", "client_list_sheet.xlsx", "client_list_hidden.xlsx"]


@pytest.mark.parametrize("name", CORPUS_LISTS)
def test_the_refusal_names_what_and_where_but_no_value_from_the_file(name: str) -> None:
    from test_corpus import CORPUS

    parsed = read_return((CORPUS / name).read_bytes(), name)
    refused(parsed)
    finding = parsed.findings[0]
    said = " ".join([finding.message, finding.where, finding.fix, *finding.extra.values()]).lower()
    for person in people(20, seed=1) + people(12):
        for value in (person["surname"], person["forename"], person["nhs"], spaced(str(person["nhs"])),
                      person["postcode"], f"{person['dob']:%d/%m/%Y}", str(person["dob"])):
            assert str(value).lower() not in said
    for kind in ("NHS numbers", "names", "dates of birth", "postcodes"):
        assert kind in finding.message
    assert finding.extra["kinds"] == "nhs_number,name,date_of_birth,postcode"


def test_one_sheet_per_client_named_after_them_is_refused_without_repeating_the_names() -> None:
    clients = [f"{g} {f}" for g, f in zip(GIVEN[:4], FAMILY)]
    parsed = read_return(workbook({name: [["Quit date"], [date(2025, 5, 1)]] for name in clients}), "r.xlsx")
    assert refused(parsed) == "sheet 5"  # Cover, Data and two breakdown sheets come first
    message = parsed.findings[0].message
    assert "names in the names of the sheets (4 sheets, from sheet 5)" in message
    assert not any(part in message for name in clients for part in name.split())


def test_a_sheet_whose_name_could_identify_someone_is_called_by_its_number() -> None:
    rows = [["Surname"], ["Okafor"], ["Begum"], ["Smith"]]
    parsed = read_return(workbook({f"Clients {KNOWN_VALID[0]}": rows}), "r.xlsx")
    assert refused(parsed) == "sheet 5"  # the NHS number in its name
    assert "names in column A of sheet 5 (3 cells, from row 2)" in parsed.findings[0].message
    assert "Clients" not in parsed.findings[0].message
    assert KNOWN_VALID[0] not in parsed.findings[0].message


def test_the_refusal_does_not_repeat_the_file_name() -> None:
    parsed = read_csv([["NHS number"], [KNOWN_VALID[0]]], name=f"Mary Jones {KNOWN_VALID[1]}.csv")
    refused(parsed)
    assert parsed.findings[0].message.startswith("This file looks like it holds personal data")
    assert "Mary" not in parsed.findings[0].message


def test_the_refusal_replaces_every_other_finding_the_file_would_have_had() -> None:
    rows = [["item", "breakdown", "value"], ["", "", "5"], ["sarts", "", "x"]] + \
        [[f"{p['forename']} {p['surname']}", "", 1] for p in people(5)]
    parsed = read_csv(rows)
    refused(parsed)
    result = assess(TINY, Q1, parsed)
    assert [f.code for f in result.findings if f.is_error] == ["personal_data"]


def test_a_refused_workbook_keeps_its_cover_s_contract_and_period_for_the_intake() -> None:
    parsed = read_return(workbook({"Clients": [["Name"], ["Okafor"], ["Begum"], ["Smith"]]}), "r.xlsx")
    refused(parsed)
    assert parsed.cover == {"template": "kpibot return template", "framework": "tiny", "contract": "tiny-contract",
                            "return": "quarterly", "period": "2025-26-Q1"}


def test_personal_data_on_the_cover_itself_leaves_no_cover() -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbook()))
    book["Cover"]["E1"] = KNOWN_VALID[0]
    out = io.BytesIO()
    book.save(out)
    parsed = read_return(out.getvalue(), "r.xlsx")
    assert refused(parsed) == "Cover!E1"
    assert parsed.cover == {} and parsed.cover_cells == {}


# ----------------------------------------------------------------------------- aggregate returns pass

SHIPPED = [(fid, rid) for fid, fw in sorted(loader.shipped().items()) for rid in fw.returns]


def _period(framework_id: str, return_id: str) -> object:
    framework = loader.get(framework_id)
    frequency = framework.returns[return_id].frequency
    return parse_period("2025-26-Q2" if frequency == "quarterly" else "2025-26", framework.calendar.year_start_month)


@pytest.mark.parametrize(("framework_id", "return_id"), SHIPPED)
def test_every_shipped_template_filled_with_sample_figures_is_not_personal_data(framework_id: str,
                                                                                return_id: str) -> None:
    framework = loader.get(framework_id)
    period = _period(framework_id, return_id)
    earlier = {"2025-26-Q1": samples.sample_values(framework, return_id, seed=1)} if return_id == "quarterly" else {}
    template = build_template(framework, contract_id=f"{framework_id}-2025", contract_name=framework.name,
                              provider_name="Breathe Easy Stop Smoking CIC", period=period, earlier=earlier)
    parsed = read_return(fill(template, samples.sample_values(framework, return_id, seed=3), framework), "return.xlsx")
    assert not parsed.personal_data, parsed.findings[0].message
    assert parsed.entries
    assert not read_return(template, "empty.xlsx").personal_data


@pytest.mark.parametrize(("framework_id", "return_id"), SHIPPED)
def test_every_shipped_framework_s_sample_csv_with_its_year_so_far_is_not_personal_data(framework_id: str,
                                                                                        return_id: str) -> None:
    framework = loader.get(framework_id)
    data = sample_return_csv(framework, _period(framework_id, return_id), scale=5000)
    parsed = read_return(data, "return.csv")
    assert not parsed.personal_data, parsed.findings[0].message
    assert len(parsed.entries) == len(data.splitlines()) - 1


def test_large_but_plausible_figures_are_not_personal_data() -> None:
    values = {key: Fraction(n * 7919 + 123_456_789) for n, key in enumerate(samples.sample_values(TINY, "quarterly"))
              if key[0] != "policy"}
    assert not read_return(fill(TEMPLATE, values, TINY), "r.xlsx").personal_data
