"""The jurisdiction files: they load, are complete in three languages, and hold only facts
from the facts sheet (nothing marked UNVERIFIED there)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from bot.jurisdictions import (
    Body,
    Channel,
    Confidence,
    CrisisLine,
    Jurisdiction,
    L10n,
    LegalBasis,
    load_jurisdictions,
)

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "content" / "jurisdictions"
TOML_FILES = sorted(DIRECTORY.glob("*.toml"))
SHEET = DIRECTORY / "regulators.md"  # the sourced fact sheet the jurisdictions are built from
CHECKED = date(2026, 11, 28)
"""The sheet's compile date. Entries changed on 2026-11-29 keep the file's date: ``checked``
applies to a whole file, and no file had every entry re-checked that day."""
EXPECTED = ["cn", "mx", "co", "pe", "es", "ar", "cl", "id", "in", "ke", "ph", "generic"]
CITATION = "regulators.md §"
"""A source with no address in the sheet: ``regulators.md §<section>: <the sheet's words>``."""


@pytest.fixture(scope="module")
def jurisdictions() -> dict[str, Jurisdiction]:
    return load_jurisdictions(DIRECTORY)


@pytest.fixture(scope="module")
def sheet() -> str:
    return SHEET.read_text(encoding="utf-8")


def walk(obj: Any) -> Iterator[Any]:
    """Every model, tuple item and value below ``obj``, depth first."""
    yield obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from walk(getattr(obj, name))
    elif isinstance(obj, tuple | list):
        for item in obj:
            yield from walk(item)


def strings(obj: Any) -> Iterator[str]:
    return (x for x in walk(obj) if isinstance(x, str))


def entries(j: Jurisdiction) -> Iterator[tuple[str, Body | Channel | LegalBasis | CrisisLine]]:
    for body in j.bodies:
        yield f"{j.id}/{body.id}", body
        for n, channel in enumerate(body.channels):
            yield f"{j.id}/{body.id}/channel{n}", channel
    for basis in j.legal_bases:
        yield f"{j.id}/{basis.id}", basis
    for n, line in enumerate(j.crisis_lines):
        yield f"{j.id}/crisis{n}", line


def all_values(j: Jurisdiction) -> set[str]:
    """Channel values, emergency numbers and crisis lines of a jurisdiction."""
    values = set(j.emergency)
    values |= {c.value for b in j.bodies for c in b.channels if c.value}
    values |= {line.value for line in j.crisis_lines}
    return values


# --- loading -------------------------------------------------------------------------------


def test_expected_files_exist() -> None:
    assert {p.stem for p in TOML_FILES} >= set(EXPECTED)


def test_all_files_load_in_order(jurisdictions: dict[str, Jurisdiction]) -> None:
    assert list(jurisdictions) == EXPECTED
    for key, j in jurisdictions.items():
        assert j.id == key


@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.stem)
def test_each_file_loads_alone(path: Path, tmp_path: Path) -> None:
    (tmp_path / path.name).write_bytes(path.read_bytes())
    assert list(load_jurisdictions(tmp_path)) == [path.stem]


def test_order_of_other_jurisdictions(tmp_path: Path) -> None:
    source = (DIRECTORY / "generic.toml").read_text(encoding="utf-8")
    for name in ["generic", "zz", "es", "ab", "cn"]:
        text = source.replace('id = "generic"', f'id = "{name}"', 1)
        (tmp_path / f"{name}.toml").write_text(text, encoding="utf-8")
    assert list(load_jurisdictions(tmp_path)) == ["cn", "es", "ab", "zz", "generic"]


def test_id_must_match_file_name(tmp_path: Path) -> None:
    (tmp_path / "xx.toml").write_bytes((DIRECTORY / "generic.toml").read_bytes())
    with pytest.raises(ValueError, match="file name"):
        load_jurisdictions(tmp_path)


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    text = (DIRECTORY / "generic.toml").read_text(encoding="utf-8")
    (tmp_path / "generic.toml").write_text(text + '\nphone = "1"\n', encoding="utf-8")
    with pytest.raises(ValidationError):
        load_jurisdictions(tmp_path)


def test_models_are_frozen(jurisdictions: dict[str, Jurisdiction]) -> None:
    with pytest.raises(ValidationError):
        jurisdictions["cn"].id = "xx"  # type: ignore[misc]


# --- L10n ----------------------------------------------------------------------------------


def test_l10n_get_any_language_and_english_where_missing() -> None:
    text = L10n.model_validate({"en": "a", "es": "b", "zh-Hans": "c"})
    assert (text.get("en"), text.get("es"), text.get("zh-Hans")) == ("a", "b", "c")
    assert text.get("zh-hans") == "c"
    assert text.get("fr") == "a"  # a language added later reads English until translated


@pytest.mark.parametrize(
    "data",
    [{"es": "b", "zh-Hans": "c"}, {"en": "a", "es": "b", "zh-Hans": " "}, {"en": "", "es": "b"},
     {"en": "a", "not a tag!": "b"}],
)  # fmt: skip
def test_l10n_requires_english_and_non_empty_texts(data: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        L10n.model_validate(data)


def test_every_localized_string_in_three_languages(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    count = 0
    for j in jurisdictions.values():
        for item in walk(j):
            if isinstance(item, L10n):
                count += 1
                assert item.languages() >= {"en", "es", "zh-Hans"}, (j.id, item)
    assert count > 100


def test_chinese_strings_are_chinese(jurisdictions: dict[str, Jurisdiction]) -> None:
    han = re.compile(r"[\u4e00-\u9fff]")
    for j in jurisdictions.values():
        for item in walk(j):
            if isinstance(item, L10n) and item.en != item.get("zh-Hans"):
                assert han.search(item.get("zh-Hans")), (j.id, item.get("zh-Hans"))


# --- confidence, sources, dates ------------------------------------------------------------


def test_checked_date(jurisdictions: dict[str, Jurisdiction]) -> None:
    for j in jurisdictions.values():
        assert j.checked == CHECKED


def test_confidence_and_sources(jurisdictions: dict[str, Jurisdiction]) -> None:
    allowed = set(get_args(Confidence))
    assert allowed == {"seen-official", "seen", "inferred"}
    for j in jurisdictions.values():
        for where, entry in entries(j):
            assert entry.confidence in allowed, where
            assert entry.sources, where
            for source in entry.sources:
                if j.id == "generic" and not isinstance(entry, CrisisLine):
                    assert source.startswith("regulators.md"), where
                elif j.id == "generic":
                    assert source.startswith("https://"), where
                else:
                    assert source.startswith(
                        ("http://", "https://", "github.com/LawRefBook/", CITATION)
                    ), (where, source)


def test_generic_is_generic(jurisdictions: dict[str, Jurisdiction]) -> None:
    generic = jurisdictions["generic"]
    assert generic.phone_region == ""
    assert generic.emergency == ()
    assert generic.legal_bases == ()
    assert len(generic.bodies) >= 4
    for body in generic.bodies:
        assert body.confidence == "inferred"
        assert body.channels == ()
    shown = [s for b in generic.bodies for s in strings([b.native_name, b.name, b.handles])]
    shown += [s for b in generic.bodies for s in strings([b.not_handles, b.note])]
    shown += list(strings([generic.name, generic.note]))
    assert not any(re.search(r"\d", s) for s in shown), "no numbers in generic"
    names = {b.name.en for b in generic.bodies}
    assert "Your country's financial regulator or central bank" in names
    assert "Your country's data-protection authority" in names


def test_phone_regions(jurisdictions: dict[str, Jurisdiction]) -> None:
    regions = {k: j.phone_region for k, j in jurisdictions.items()}
    assert regions == {
        "cn": "CN",
        "mx": "MX",
        "co": "CO",
        "pe": "PE",
        "es": "ES",
        "ar": "AR",
        "cl": "CL",
        "id": "ID",
        "in": "IN",
        "ke": "KE",
        "ph": "PH",
        "generic": "",
    }


def test_emergency_numbers(jurisdictions: dict[str, Jurisdiction]) -> None:
    """Section 8.2 of the sheet, police (or the single number) first."""
    emergency = {k: j.emergency for k, j in jurisdictions.items()}
    assert emergency == {
        "cn": ("110", "120", "119"),
        "mx": ("911",),
        "co": ("123",),  # 155, for women victims of violence, is a labelled police channel
        "pe": ("105", "106", "116"),  # not 911: its start date was not found
        "es": ("112", "091", "062"),
        "ar": ("911",),
        "cl": ("133", "131", "132"),
        "id": ("110", "112", "119"),  # 110 first: 112 works only where a local centre exists
        "in": ("112",),
        "ke": ("999", "112", "911"),
        "ph": ("911",),
        "generic": (),  # no number applies everywhere
    }
    assert "155" in {c.value for c in jurisdictions["co"].body("policia").channels}


def test_peru_does_not_show_911(jurisdictions: dict[str, Jurisdiction]) -> None:
    """Peru's single 911 centre exists on paper but its start date was not found."""
    assert "911" not in (DIRECTORY / "pe.toml").read_text(encoding="utf-8")
    assert "911" not in all_values(jurisdictions["pe"])
    assert "105" in {c.value for c in jurisdictions["pe"].body("pnp").channels}


def test_timezones_and_document_languages(jurisdictions: dict[str, Jurisdiction]) -> None:
    zones = {k: j.timezone for k, j in jurisdictions.items()}
    assert zones == {
        "cn": "Asia/Shanghai",
        "mx": "America/Mexico_City",
        "co": "America/Bogota",
        "pe": "America/Lima",
        "es": "Europe/Madrid",
        "ar": "America/Argentina/Buenos_Aires",
        "cl": "America/Santiago",
        "id": "Asia/Jakarta",
        "in": "Asia/Kolkata",
        "ke": "Africa/Nairobi",
        "ph": "Asia/Manila",
        "generic": "UTC",
    }
    for zone in zones.values():
        ZoneInfo(zone)  # a real IANA zone
    langs = {k: j.documents_lang for k, j in jurisdictions.items()}
    assert langs == {
        "cn": "zh-Hans",
        **dict.fromkeys(["mx", "co", "pe", "es", "ar", "cl"], "es"),
        **dict.fromkeys(["in", "ke", "ph"], "en"),
        "id": None,  # no Indonesian: documents in the user's own language
        "generic": None,
    }


def test_lender_types_and_regions_are_the_jurisdictions_own(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    for j in jurisdictions.values():
        if j.id not in ("cn", "mx"):
            assert (j.lender_types, j.regions) == ((), ()), j.id
        for body in j.bodies:
            assert set(body.lender_types) <= set(j.lender_types), (j.id, body.id)
            assert set(body.regions) <= set(j.regions), (j.id, body.id)
        for basis in j.legal_bases:
            assert set(basis.lender_types) <= set(j.lender_types), (j.id, basis.id)
            assert basis.region is None or basis.region in j.regions, (j.id, basis.id)


# --- legal bases: what they are about and when they apply ----------------------------------


def test_every_legal_basis_has_a_domain(jurisdictions: dict[str, Jurisdiction]) -> None:
    for j in jurisdictions.values():
        for basis in j.legal_bases:
            assert basis.domains, (j.id, basis.id)
            assert len(set(basis.domains)) == len(basis.domains), (j.id, basis.id)


def test_bases_that_cannot_be_cited_plainly_stay_out_of_documents(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    """A basis whose year or article is unknown, or which holds only in a region the user is
    not asked about, is for the chat only."""
    out = {
        f"{k}/{b.id}"
        for k, j in jurisdictions.items()
        for b in j.legal_bases
        if not b.in_documents
    }
    assert out == {"cn/nifa_collection_guideline", "mx/ltosf", "ar/caba_ley_6171"}
    for j in jurisdictions.values():
        for basis in j.legal_bases:
            if "year" in basis.unknown:
                assert not basis.in_documents, (j.id, basis.id)
            if not basis.in_documents:
                assert basis.note is not None, (j.id, basis.id)


# --- crisis lines (section 8.1 of the sheet) -----------------------------------------------


def test_every_jurisdiction_has_a_crisis_line(jurisdictions: dict[str, Jurisdiction]) -> None:
    for j in jurisdictions.values():
        assert j.crisis_lines, j.id
    # Generic: no number, only Befrienders Worldwide's own address as the sheet gives it.
    (generic,) = jurisdictions["generic"].crisis_lines
    assert generic.value == "https://befrienders.org/about-us"


def test_crisis_lines_appear_verbatim_in_the_sheet(
    jurisdictions: dict[str, Jurisdiction], sheet: str
) -> None:
    crisis = sheet[sheet.index("### 8.1") : sheet.index("### 8.2")]
    for j in jurisdictions.values():
        for line in j.crisis_lines:
            assert line.value in crisis, (j.id, line.value)
            for source in line.sources:
                assert source in crisis, (j.id, line.value, source)


def test_crisis_lines(jurisdictions: dict[str, Jurisdiction]) -> None:
    def values(key: str) -> list[str]:
        return [line.value for line in jurisdictions[key].crisis_lines]

    assert values("cn") == ["12356", "010-82951332"]
    assert values("mx") == ["800 911 2000"]
    assert values("pe") == ["113"]
    assert values("es") == ["024"]
    assert values("in") == ["14416", "1-800-891-4416"]
    assert values("ke") == ["1199"]  # Befrienders Kenya's number is not verified
    assert values("ph") == ["1553", "0919 057 1553", "0917 899 8727"]
    # 12356 is not necessarily a 24-hour line: say so.
    hours = jurisdictions["cn"].crisis_lines[0].hours
    assert hours is not None and "18 hours" in hours.en
    # Indonesia's voice line keeps office hours only.
    voice = next(x for x in jurisdictions["id"].crisis_lines if x.value == "119 ext. 8")
    assert voice.hours is not None and "not 24 hours" in voice.hours.en


# --- nothing unverified --------------------------------------------------------------------


def test_no_string_says_unverified(jurisdictions: dict[str, Jurisdiction]) -> None:
    for j in jurisdictions.values():
        for s in strings(j):
            assert "unverified" not in s.lower(), (j.id, s)


@pytest.mark.parametrize(
    "value",
    [
        "400-0136-136",  # NIFA phone, one blog only
        "0-800-10840",  # SBS phone, not confirmed
        "cyberpolice.mps.gov.cn",  # MPS site address, not seen
        "1930",  # India helpline
        "AAIP",  # Argentina's data-protection authority, not checked
        "cgfd_enforcement",  # Philippine SEC e-mail, on no official page
        "722 178 177",  # Befrienders Kenya's number, one secondary page only
        "1190",  # the Kenya Red Cross number one page gives instead of 1199
        "QuejaElectronica",  # CONDUSEF's complaint deep link, not confirmed
        "2019-09-11",  # claimed date of SEC MC No. 18, maybe its effective date
        "UNVERIFIED",
    ],
)
@pytest.mark.parametrize("path", TOML_FILES, ids=lambda p: p.stem)
def test_unverified_values_absent_from_files(path: Path, value: str) -> None:
    assert value not in path.read_text(encoding="utf-8")


def test_unverified_channels_are_listed_as_unknown(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    cn, mx, co, pe, es = (jurisdictions[k] for k in EXPECTED[:5])
    assert "phone" in cn.body("nifa").unknown
    assert not any(c.kind == "phone" for c in cn.body("nifa").channels)
    assert "phone" in pe.body("sbs").unknown
    assert pe.body("sbs").channels == ()
    assert "channel" in pe.body("indecopi").unknown
    assert "contact" in pe.body("pnp").unknown
    assert "complaint_form" in mx.body("sabg").unknown
    # CONDUSEF's online complaint: its site, not an unconfirmed deep link.
    assert "complaint_form" in mx.body("condusef").unknown
    assert "www.condusef.gob.mx" in {c.value for c in mx.body("condusef").channels}
    assert "complaint_form" in co.body("sic").unknown
    assert "phone" in es.body("aepd").unknown
    assert not any(c.kind == "phone" for c in es.body("aepd").channels)
    assert "article" in mx.legal_basis("ltosf").unknown
    assert mx.legal_basis("ltosf").article is None
    assert "rule_details" in cn.legal_basis("gbt_45251_2025").unknown
    assert "revised_article" in cn.legal_basis("psapl_42_2012").unknown
    # The final penalty of the revised art. 56 is not verified: none is stated.
    art56 = cn.legal_basis("psapl_56")
    assert "rule_details" in art56.unknown
    assert not any(re.search(r"\d+\s*(days|yuan)|日|元", s) for s in strings(art56.summary))
    # The detailed rules claimed for GB/T 45251-2025 were not checked against its text.
    gbt = cn.legal_basis("gbt_45251_2025")
    assert gbt.behaviours == ()
    assert not any(re.search(r"22:00|08:00|\b3\b", s) for s in strings([gbt.summary, gbt.law]))
    # The "2018 NIFA collection guideline" was not found: no 2018 date for NIFA rules.
    for basis in cn.legal_bases:
        assert not any("2018" in s for s in strings([basis.law, basis.summary, basis.note]))


def test_unverified_articles_absent(jurisdictions: dict[str, Jurisdiction]) -> None:
    def articles(key: str) -> set[str]:
        return {b.article.en for b in jurisdictions[key].legal_bases if b.article}

    # Penal articles the sheet did not check: Mexico 390/282, Colombia 244, Peru 200/151,
    # Spain 169/171/197.
    assert not any(re.search(r"\b(390|282)\b", a) for a in articles("mx"))
    assert not any(re.search(r"\b244\b", a) for a in articles("co"))
    assert not any(re.search(r"\b(200|151)\b", a) for a in articles("pe"))
    assert not any(re.search(r"\b(169|171|197)\b", a) for a in articles("es"))


# --- facts are copied from the sheet -------------------------------------------------------


def test_values_and_sources_appear_in_sheet(
    jurisdictions: dict[str, Jurisdiction], sheet: str
) -> None:
    for j in jurisdictions.values():
        for value in all_values(j):
            assert value in sheet, (j.id, value)
        for where, entry in entries(j):
            for source in entry.sources:
                if source.startswith("http"):
                    assert source in sheet, (where, source)
                elif source.startswith("github.com/LawRefBook/"):
                    assert source.rsplit(": ", 1)[1] in sheet, (where, source)
                elif source.startswith(CITATION):
                    section, words = source.removeprefix(CITATION).split(": ", 1)
                    heading = rf"^#+ {re.escape(section)}\.? "
                    assert re.search(heading, sheet, re.MULTILINE), (where, source)
                    assert words in sheet, (where, source)


# --- China ---------------------------------------------------------------------------------


def test_china_bodies(jurisdictions: dict[str, Jurisdiction]) -> None:
    cn = jurisdictions["cn"]
    natives = {b.native_name for b in cn.bodies}
    for name in (
        "中国互联网金融协会",
        "中国人民银行征信中心",
        "国家金融监督管理总局",
        "中国人民银行",
        "地方金融管理局",
        "12321网络不良与垃圾信息举报受理中心",
        "工信部电信用户申诉受理中心",
        "中央网信办违法和不良信息举报中心",
        "公安部网络违法犯罪举报网站",
        "公安机关",
        "国家市场监督管理总局",
        "人民法院",
    ):
        assert name in natives, name
    assert cn.body("carriers").role == "carrier"


def test_china_nifa_and_credit_reference_center(jurisdictions: dict[str, Jurisdiction]) -> None:
    cn = jurisdictions["cn"]
    nifa = cn.body("nifa")
    assert nifa.name.en.startswith("National Internet Finance Association of China")
    assert nifa.role == "industry_association"
    assert nifa.not_handles is not None
    assert "https://jubao.nifa.org.cn" in {c.value for c in nifa.channels}

    crc = cn.body("crc")
    assert crc.name.en.startswith("PBoC Credit Reference Center")
    assert crc.not_handles is not None
    assert "harassment" in crc.not_handles.en
    assert "12363" in crc.not_handles.en  # 12363 is the PBoC's line, not the CRC's
    assert {c.value for c in crc.channels} == {"www.pbccrc.org.cn", "400-810-8866"}
    assert crc.scope == ("credit_report",)
    # The hotline is the one the Center prints on every credit report (seen-official).
    hotline = next(c for c in crc.channels if c.value == "400-810-8866")
    assert hotline.confidence == "seen-official"
    # NIFA only takes reports and forwards them: its own document, not a regulator complaint.
    assert nifa.template == "association_report"
    assert "forwards" in nifa.handles.en
    assert nifa.scope == ("licensed", "unlicensed")


def test_association_report_is_nifa_only(jurisdictions: dict[str, Jurisdiction]) -> None:
    users = {
        f"{k}/{b.id}"
        for k, j in jurisdictions.items()
        for b in j.bodies
        if b.template == "association_report"
    }
    assert users == {"cn/nifa"}


def test_china_bodies_are_routed_only_where_they_can_act(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    cn = jurisdictions["cn"]
    assert cn.lender_types == ("bank", "consumer_finance", "small_loan")
    # PBoC: payment and credit-reporting institutions, not lenders' collection.
    pboc = cn.body("pboc")
    assert pboc.scope == ("credit_report",)
    assert pboc.not_handles is not None and "collection" in pboc.not_handles.en
    # SAMR 12315: non-financial businesses; financial lenders go to the financial regulators.
    samr = cn.body("samr_12315")
    assert samr.scope == ("non_financial",)
    assert samr.confidence == "seen"
    assert samr.not_handles is not None
    assert cn.body("nfra").lender_types == ("bank", "consumer_finance")
    assert cn.body("local_financial_bureau").lender_types == ("small_loan",)
    for body in cn.bodies:
        if body.lender_types:
            assert body.not_handles is not None, body.id


def test_china_numbers(jurisdictions: dict[str, Jurisdiction]) -> None:
    cn = jurisdictions["cn"]

    def phones(body_id: str) -> set[str | None]:
        return {c.value for c in cn.body(body_id).channels if c.kind == "phone"}

    assert phones("nfra") == {"12378"}
    assert phones("pboc") == {"12363"}
    assert phones("crc") == {"400-810-8866"}
    assert "010-12321" in phones("report_12321")
    assert "12377" in phones("cac_12377")
    assert "110" in phones("police")
    assert "12315" in phones("samr_12315")
    assert phones("miit_12300") == {"010-12300"}
    assert phones("carriers") == {"10086", "10010", "10000"}
    values = all_values(cn)
    assert {"www.12321.cn", "www.12377.cn", "www.cyberpolice.cn", "www.12315.cn"} <= values


def test_china_caveats(jurisdictions: dict[str, Jurisdiction]) -> None:
    cn = jurisdictions["cn"]
    t12300 = cn.body("miit_12300")
    assert (t12300.deadline_days, t12300.deadline_of) == (15, "prior_complaint")
    assert t12300.note is not None and "carrier" in t12300.note.en
    assert t12300.scope == ("carrier_unresponsive",)
    nfra = cn.body("nfra")
    assert (nfra.deadline_days, nfra.deadline_kind, nfra.deadline_of) == (15, "working", "body")
    assert cn.body("courts").confidence == "inferred"

    psapl = cn.legal_basis("psapl_42_2012")
    assert psapl.article is not None
    assert psapl.article.en == "art. 42 (2012 text)"
    assert "2012" in psapl.article.get("es") and "2012" in psapl.article.get("zh-Hans")

    crim = cn.legal_basis("crim_293_1")
    assert crim.note is not None and "illegal" in crim.note.en.lower()
    assert "非法债务" in crim.note.get("zh-Hans")
    # Illegal debts only: known only when the user said the lender is unlicensed.
    assert crim.requires == ("unlicensed",)


def test_psapl_2012_is_not_current(jurisdictions: dict[str, Jurisdiction]) -> None:
    """The 2012 text applies only to conduct before 2026-01-01: kept, never cited."""
    cn = jurisdictions["cn"]
    old = cn.legal_basis("psapl_42_2012")
    assert old.current is False
    assert [b.id for b in cn.legal_bases if not b.current] == ["psapl_42_2012"]
    for basis_id in ("psapl_50_1_5", "psapl_50_2", "psapl_56"):
        basis = cn.legal_basis(basis_id)
        assert basis.current and basis.domains == ("public_order",), basis_id
        assert basis.article is not None and "revised" in basis.article.en, basis_id


def test_psapl_art_50_only_for_item_5_conduct(jurisdictions: dict[str, Jurisdiction]) -> None:
    """The sheet: cite art. 50 only for repeated messages, harassing, pestering, following;
    which items cover threats, insult, defamation and privacy is not verified."""
    cn = jurisdictions["cn"]
    item_5 = {"night_calls", "contacts_messaged"}
    for basis_id in ("psapl_50_1_5", "psapl_50_2"):
        behaviours = set(cn.legal_basis(basis_id).behaviours)
        assert behaviours and behaviours <= item_5, basis_id
    for basis in cn.legal_bases:
        if basis.current and basis.article and "art. 50" in basis.article.en:
            assert basis.id in ("psapl_50_1_5", "psapl_50_2")


def test_china_legal_bases(jurisdictions: dict[str, Jurisdiction]) -> None:
    ids = {b.id for b in jurisdictions["cn"].legal_bases}
    assert {"crim_293_1", "crim_293", "crim_253_1", "crim_246", "crim_274"} <= ids
    assert {"psapl_42_2012"} <= ids
    assert {"pipl_10", "pipl_13", "pipl_23", "pipl_65", "pipl_69"} <= ids
    assert {"civil_1024", "civil_1032", "civil_1033_1", "civil_1034", "civil_1038"} <= ids
    kinds = {b.id: b.kind for b in jurisdictions["cn"].legal_bases}
    assert kinds["gbt_45251_2025"] == "standard"
    assert kinds["nifa_collection_guideline"] == "self_regulation"
    assert kinds["nifa_letter_2017"] == "self_regulation"
    assert kinds["cba_collection_guideline"] == "self_regulation"
    cba = jurisdictions["cn"].legal_basis("cba_collection_guideline")
    assert cba.lender_types == ("bank", "consumer_finance")
    assert "2026-01-30" in cba.summary.en
    assert "year" not in cba.unknown
    assert "asks not to be contacted" in cba.summary.en
    # The year of NIFA's interim guideline is not verified: never printed in a letter.
    assert jurisdictions["cn"].legal_basis("nifa_collection_guideline").in_documents is False


def test_china_helpers(jurisdictions: dict[str, Jurisdiction]) -> None:
    cn = jurisdictions["cn"]
    licensed = {b.id for b in cn.bodies_for(["licensed"])}
    assert {"nfra", "nifa", "local_financial_bureau"} <= licensed
    assert not {"crc", "pboc", "samr_12315"} & licensed
    assert {b.id for b in cn.bodies_for(["credit_report"])} >= {"crc", "pboc"}
    assert "pipl_13" in {b.id for b in cn.bases_for(["contacts_messaged"])}
    with pytest.raises(KeyError):
        cn.body("nope")


# --- other jurisdictions -------------------------------------------------------------------


def test_mexico(jurisdictions: dict[str, Jurisdiction]) -> None:
    mx = jurisdictions["mx"]
    condusef = mx.body("condusef")
    phones = {c.value for c in condusef.channels if c.kind == "phone"}
    assert phones == {"55 5340 0999", "800 999 8080"}
    assert condusef.not_handles is not None
    assert "unregistered" in condusef.not_handles.en
    assert "55 5242 5100 ext. 5086" in all_values(mx)
    assert mx.legal_basis("cpf_284_bis").confidence == "seen-official"
    assert (mx.lender_types, mx.regions) == (("sofom", "unregistered"), ("cdmx", "other_state"))
    # CONDUSEF and REDECO act only on registered entities.
    assert condusef.lender_types == ("sofom",)
    redeco = mx.body("redeco")
    assert (redeco.scope, redeco.lender_types) == (("licensed",), ("sofom",))
    assert redeco.not_handles is not None and "unregistered" in redeco.not_handles.en
    # PROFECO's phone is now known; 088 and 089 are told apart.
    assert {c.value for c in mx.body("profeco").channels} == {"55 5568 8722", "800 468 8722"}
    assert not mx.body("profeco").unknown
    lines = mx.body("national_lines")
    assert "extortion" in lines.handles.en and lines.note is None
    # Mexico City's art. 209 Bis binds only there; its cyber police serves only there.
    assert mx.legal_basis("cpdf_209_bis").region == "cdmx"
    assert mx.body("ssc_cdmx_cyber").regions == ("cdmx",)
    rules = mx.legal_basis("condusef_collection_rules")
    assert (rules.requires, rules.lender_types) == (("licensed",), ("sofom",))
    assert "references" in rules.summary.en
    assert rules.note is not None and "2014-10-07" in rules.note.en
    assert mx.legal_basis("ltosf").in_documents is False


def test_spain(jurisdictions: dict[str, Jurisdiction]) -> None:
    es = jurisdictions["es"]
    bde = es.body("bde")
    assert (bde.deadline_days, bde.deadline_kind, bde.deadline_of) == (
        15,
        "business",
        "prior_complaint",
    )
    assert "900 54 54 54" in {c.value for c in bde.channels}
    assert bde.not_handles is not None and "data protection" in bde.not_handles.en
    police = es.body("policia_nacional")
    assert police.note is not None and "in person" in police.note.en


def test_colombia_and_peru(jurisdictions: dict[str, Jurisdiction]) -> None:
    co, pe = jurisdictions["co"], jurisdictions["pe"]
    assert {c.value for c in co.body("gaula").channels} == {"165"}
    inferred = [c for c in co.body("sfc").channels if c.value == "601 307 8042"]
    assert inferred and inferred[0].confidence == "inferred"
    assert "protegetusdatos@minjus.gob.pe" in all_values(pe)
    # The SBS acts on licensed entities only; for unlicensed apps it refers to police and
    # prosecutor.
    sbs = pe.body("sbs")
    assert sbs.scope == ("licensed",)
    assert sbs.not_handles is not None
    assert "police" in sbs.not_handles.en and "Ministerio Público" in sbs.not_handles.en


def test_redeco_receives_the_collection_registry_complaint(
    jurisdictions: dict[str, Jurisdiction],
) -> None:
    mx = jurisdictions["mx"]
    assert mx.body("redeco").template == "collection_registry_complaint"
    assert mx.body("condusef").template is None


# --- other countries (section 6 of the sheet) ----------------------------------------------


def phones(j: Jurisdiction, body_id: str) -> set[str | None]:
    return {c.value for c in j.body(body_id).channels if c.kind == "phone"}


def test_philippines(jurisdictions: dict[str, Jurisdiction]) -> None:
    ph = jurisdictions["ph"]
    sec, npc = ph.body("sec"), ph.body("npc")
    assert (sec.role, sec.scope) == ("financial_regulator", ("licensed",))
    # The enforcement e-mail is on no official page: no channel, listed as unknown.
    assert sec.channels == ()
    assert "email" in sec.unknown
    assert sec.note is not None and "Corporate Governance and Finance Department" in sec.note.en
    assert npc.role == "data_protection"
    assert {c.value for c in npc.channels} == {"privacy.gov.ph/complaints-main/"}
    ids = {b.id for b in ph.legal_bases}
    assert {"sec_mc_18_2019", "ra_9474", "ra_10173", "ra_10175"} <= ids
    mc18 = ph.legal_basis("sec_mc_18_2019")
    assert "contacts_messaged" in mc18.behaviours
    assert "August 2019" in mc18.summary.en


def test_india(jurisdictions: dict[str, Jurisdiction]) -> None:
    india = jurisdictions["in"]
    assert {c.value for c in india.body("rbi_sachet").channels} == {"sachet.rbi.org.in"}
    assert india.body("rbi_sachet").scope == ("unlicensed",)
    ombudsman = india.body("rbi_ombudsman")
    assert {c.value for c in ombudsman.channels} == {"cms.rbi.org.in"}
    assert ombudsman.scope == ("licensed",)
    assert ombudsman.note is not None and "grievance officer" in ombudsman.note.en
    portal = india.body("cybercrime_portal")
    assert {c.value for c in portal.channels} == {"cybercrime.gov.in"}
    # The helpline the sheet quotes is not verified: no phone, listed as unknown.
    assert "phone" in portal.unknown
    assert phones(india, "cybercrime_portal") == set()
    assert phones(india, "police") == {"112"}
    assert {"rbi_digital_lending_2022", "it_act_69a"} <= {b.id for b in india.legal_bases}
    article = india.legal_basis("it_act_69a").article
    assert article is not None and "69A" in article.en


def test_indonesia(jurisdictions: dict[str, Jurisdiction]) -> None:
    indonesia = jurisdictions["id"]
    ojk = indonesia.body("ojk")
    assert ojk.scope == ("licensed",)
    assert phones(indonesia, "ojk") == {"157"}
    assert {"081-157-157-157", "konsumen@ojk.go.id", "kontak157.ojk.go.id"} <= {
        c.value for c in ojk.channels
    }
    assert {"patrolisiber.id", "aduankonten.id"} <= all_values(indonesia)
    pdp = indonesia.legal_basis("uu_27_2022_67")
    assert pdp.article is not None and pdp.article.en == "art. 67"


def test_kenya(jurisdictions: dict[str, Jurisdiction]) -> None:
    ke = jurisdictions["ke"]
    odpc = ke.body("odpc")
    # The ODPC's complaint URL is not verified: no channel, listed as unknown.
    assert odpc.role == "data_protection"
    assert "complaint_form" in odpc.unknown
    assert odpc.channels == ()
    assert ke.body("cbk").scope == ("licensed",)
    regulations = ke.legal_basis("cbk_dcp_regulations_2022")
    assert {"contacts_messaged", "violence_threats"} <= set(regulations.behaviours)
    assert "dpa_2019" in {b.id for b in ke.legal_bases}


def test_chile(jurisdictions: dict[str, Jurisdiction]) -> None:
    cl = jurisdictions["cl"]
    sernac = cl.body("sernac")
    assert sernac.role == "consumer"
    assert {c.value for c in sernac.channels} == {"Portal del Consumidor"}
    basis = cl.legal_basis("ley_19496_art37")
    assert basis.article is not None and basis.article.en == "art. 37"
    assert "Ley 21.320" in basis.law.en
    assert "300 UTM" in basis.summary.en


def test_argentina(jurisdictions: dict[str, Jurisdiction]) -> None:
    ar = jurisdictions["ar"]
    bcra = ar.body("bcra")
    # The entity must answer within 10 business days before the user goes to the BCRA.
    assert (bcra.deadline_days, bcra.deadline_kind, bcra.deadline_of) == (
        10,
        "business",
        "prior_complaint",
    )
    assert "@BCRAUsuarios" in {c.value for c in bcra.channels}
    # The data-protection authority was not checked: not named, no channel, inferred.
    dpa = ar.body("data_protection")
    assert dpa.confidence == "inferred"
    assert "contact" in dpa.unknown
    assert dpa.channels == ()
    ids = {b.id for b in ar.legal_bases}
    assert {"bcra_user_protection", "ley_24240", "caba_ley_6171"} <= ids
    assert "fake_legal" in ar.legal_basis("caba_ley_6171").behaviours


def test_india_helpline_appears_nowhere(jurisdictions: dict[str, Jurisdiction]) -> None:
    for j in jurisdictions.values():
        for s in strings(j):
            assert "1930" not in s, (j.id, s)


# --- Spanish tone --------------------------------------------------------------------------


def test_spanish_addresses_the_user_with_tu(jurisdictions: dict[str, Jurisdiction]) -> None:
    """The bot's Spanish speaks to the user with "tú": no "usted" forms in the content."""
    usted = re.compile(
        r"\busted\b|(^|[.:;]\s+)(Compruebe|Averigüe|Acuda|Busque|Reclame|Guarde|Lleve|"
        r"Envíelo|Pídale|Úselo|Añada|Confírmelos|Llame)\b",
        re.IGNORECASE,
    )
    for j in jurisdictions.values():
        for item in walk(j):
            if isinstance(item, L10n):
                assert not usted.search(item.get("es")), (j.id, item.get("es"))


# --- model rules ---------------------------------------------------------------------------


def test_channel_needs_value_or_note() -> None:
    with pytest.raises(ValidationError, match="value or a note"):
        Channel.model_validate({"kind": "web", "confidence": "seen", "sources": ["x"]})


def test_channels_inherit_body_sources(jurisdictions: dict[str, Jurisdiction]) -> None:
    crc = jurisdictions["cn"].body("crc")
    assert all(c.sources == crc.sources for c in crc.channels)
    nifa = jurisdictions["cn"].body("nifa")
    assert nifa.channels[0].sources == ("https://www.qllr.org/peizipingtai/19623.html",)


def test_deadline_kind_needs_days() -> None:
    body = {
        "id": "x",
        "native_name": "x",
        "name": {"en": "x", "es": "x", "zh-Hans": "x"},
        "handles": {"en": "x", "es": "x", "zh-Hans": "x"},
        "role": "police",
        "scope": ["always"],
        "confidence": "seen",
        "sources": ["x"],
        "deadline_kind": "working",
    }
    with pytest.raises(ValidationError, match="without deadline_days"):
        Body.model_validate(body)
    with pytest.raises(ValidationError, match="without deadline_days"):
        Body.model_validate({**body, "deadline_kind": None, "deadline_of": "prior_complaint"})
    assert Body.model_validate({**body, "deadline_days": 15}).deadline_days == 15


def test_unknown_values_are_a_closed_list() -> None:
    with pytest.raises(ValidationError):
        LegalBasis.model_validate(
            {
                "id": "x",
                "kind": "statute",
                "confidence": "seen",
                "sources": ["x"],
                "law": {"en": "x", "es": "x", "zh-Hans": "x"},
                "summary": {"en": "x", "es": "x", "zh-Hans": "x"},
                "unknown": ["UNVERIFIED phone"],
            }
        )
