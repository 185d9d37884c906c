"""Tests of the sandbox institution catalogue.

The checks against Belvo's OpenAPI spec run only when the environment variable
VINCULO_BELVO_SPEC contains the path of the spec's YAML file (version 1.35.0).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml

from vinculo.institutions.catalogue import SANDBOX_INSTITUTIONS, find_by_id, find_by_name
from vinculo.institutions.schemas import FormField, Institution

DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"

# Ids are public and must never change, so this table pins every one of them.
EXPECTED_IDS = {
    "erebor_mx_retail": 1003,
    "erebor_co_retail": 1004,
    "erebor_br_retail": 1005,
    "gringotts_mx_retail": 1006,
    "gringotts_co_retail": 1007,
    "gringotts_br_retail": 1008,
    "gotham_mx_business": 1009,
    "gotham_co_business": 1010,
    "gotham_br_business": 1011,
    "heimdall_mx_retail": 1012,
    "heimdall_co_retail": 1013,
    "heimdall_br_retail": 1014,
    "ironbank_mx_retail": 1015,
    "ironbank_co_retail": 1016,
    "ironbank_br_retail": 1017,
    "ironbank_br_business": 1018,
    "goonies_mx_gig": 1019,
    "goonies_co_gig": 1020,
    "goonies_br_gig": 1021,
    "planet_mx_gig": 1022,
    "planet_co_gig": 1023,
    "planet_br_gig": 1024,
    "tatooine_mx_fiscal": 1025,
    "imss_mx_employment": 1026,
}

# Colombian document types, as listed in the `username_type` table of Belvo's spec.
COLOMBIAN_DOCUMENT_LABELS = {
    "001": "Cédula de Ciudadanía",
    "002": "Cédula de Extranjería",
    "003": "Pasaporte",
    "004": "Tarjeta de Identidad",
    "005": "Registro Civil",
    "006": "Número Identificación Personal",
    "020": "NIT",
    "021": "NIT Persona Natural",
    "022": "NIT Persona Extranjera",
    "023": "NIT Persona Jurídica",
    "024": "NIT Menores",
    "025": "NIT Desasociado",
}
BRAZILIAN_DOCUMENT_LABELS = {
    "100": "Agência e conta",
    "102": "Cartão de crédito",
    "103": "CPF",
}

BANK_RESOURCES = [
    "ACCOUNTS",
    "BALANCES",
    "INCOMES",
    "OWNERS",
    "RECURRING_EXPENSES",
    "RISK_INSIGHTS",
    "TRANSACTIONS",
]
FISCAL_RESOURCES = ["INVOICES", "TAX_COMPLIANCE_STATUS", "TAX_RETURNS", "TAX_STATUS"]
MFA_BRANDS = {"gotham", "heimdall"}
SANDBOX_URL_PREFIX = "https://sandbox.vinculo.example/"


def institution_ids(institution: Institution) -> str:
    return institution.name


def require_field(institution: Institution, name: str) -> FormField:
    form_field = institution.field_named(name)
    assert form_field is not None, f"{institution.name} has no {name!r} form field"
    return form_field


def brand_of(institution: Institution) -> str:
    return institution.name.split("_")[0]


def country_segment(institution: Institution) -> str:
    return institution.name.split("_")[1]


all_institutions = pytest.mark.parametrize("institution", SANDBOX_INSTITUTIONS, ids=institution_ids)


# --- Identity and lookups -------------------------------------------------------------------


def test_catalogue_contains_expected_institutions() -> None:
    names = [institution.name for institution in SANDBOX_INSTITUTIONS]

    assert sorted(names) == sorted(EXPECTED_IDS)


@all_institutions
def test_institution_id_is_pinned(institution: Institution) -> None:
    assert institution.id == EXPECTED_IDS[institution.name]


def test_institution_ids_are_unique() -> None:
    ids = [institution.id for institution in SANDBOX_INSTITUTIONS]

    assert len(ids) == len(set(ids))


def test_institution_names_are_unique() -> None:
    names = [institution.name for institution in SANDBOX_INSTITUTIONS]

    assert len(names) == len(set(names))


def test_catalogue_is_ordered_by_id() -> None:
    ids = [institution.id for institution in SANDBOX_INSTITUTIONS]

    assert ids == sorted(ids)


@all_institutions
def test_institution_name_matches_belvo_pattern(institution: Institution) -> None:
    assert re.fullmatch(r"[a-z]+_[a-z]{2}_[a-z]+", institution.name)


def test_erebor_mx_matches_spec_example() -> None:
    erebor = find_by_name("erebor_mx_retail")

    assert erebor is not None
    assert erebor.id == 1003
    assert erebor.display_name == "Erebor Mexico"
    assert erebor.primary_color == "#056dae"
    assert erebor.type == "bank"


@all_institutions
def test_find_by_name_returns_institution(institution: Institution) -> None:
    assert find_by_name(institution.name) is institution


@all_institutions
def test_find_by_id_returns_institution(institution: Institution) -> None:
    assert find_by_id(institution.id) is institution


def test_find_unknown_institution_returns_none() -> None:
    assert find_by_name("narnia_mx_retail") is None
    assert find_by_name("EREBOR_MX_RETAIL") is None
    assert find_by_id(999_999) is None


# --- Common attributes ----------------------------------------------------------------------


@all_institutions
def test_country_codes_match_name(institution: Institution) -> None:
    expected_code = country_segment(institution).upper()

    assert institution.country_codes == [expected_code]
    assert institution.country_code == expected_code
    assert expected_code in {"MX", "CO", "BR"}


@all_institutions
def test_institution_common_attributes(institution: Institution) -> None:
    assert institution.integration_type == "credentials"
    assert institution.status == "healthy"
    assert institution.display_name
    assert re.fullmatch(r"#[0-9a-f]{6}", institution.primary_color)


@all_institutions
def test_institution_urls_use_sandbox_host(institution: Institution) -> None:
    urls = [institution.website, institution.logo, institution.icon_logo, institution.text_logo]

    for url in urls:
        assert url is None or url.startswith(SANDBOX_URL_PREFIX), url


@all_institutions
def test_institution_type_matches_name(institution: Institution) -> None:
    kind = institution.name.split("_")[2]
    expected_type = {
        "retail": "bank",
        "business": "bank",
        "gig": "employment",
        "employment": "employment",
        "fiscal": "fiscal",
    }[kind]

    assert institution.type == expected_type


@all_institutions
def test_resources_match_institution_type(institution: Institution) -> None:
    expected = {
        "bank": BANK_RESOURCES,
        "fiscal": FISCAL_RESOURCES,
        "employment": ["OWNERS"],
    }[institution.type]

    assert institution.resources == expected


@all_institutions
def test_only_mfa_brands_require_token(institution: Institution) -> None:
    if brand_of(institution) in MFA_BRANDS:
        assert institution.requires_token
        assert [feature.name for feature in institution.features] == ["token_required"]
        assert institution.features[0].description
    else:
        assert not institution.requires_token
        assert institution.features == []


# --- Form fields ----------------------------------------------------------------------------


@all_institutions
def test_form_fields_are_complete(institution: Institution) -> None:
    names = [form_field.name for form_field in institution.form_fields]

    assert len(names) == len(set(names)), names
    assert "username" in names
    for form_field in institution.form_fields:
        assert form_field.type in {"text", "password", "select"}, form_field.name
        assert form_field.label, form_field.name
        assert form_field.placeholder, form_field.name
        assert form_field.validation_message, form_field.name
        re.compile(form_field.validation)


@all_institutions
def test_select_values_are_complete(institution: Institution) -> None:
    for form_field in institution.form_fields:
        if form_field.type != "select":
            assert form_field.values is msgspec.UNSET, form_field.name
            continue

        assert isinstance(form_field.values, list)
        assert form_field.values, form_field.name
        for value in form_field.values:
            assert value.label, value.code
            assert value.validation_message, value.code
            assert re.fullmatch(value.validation, value.placeholder), value.code
            assert re.fullmatch(form_field.validation, value.code), value.code
        assert not re.fullmatch(form_field.validation, "999")


@all_institutions
def test_password_field_present_except_imss(institution: Institution) -> None:
    password = institution.field_named("password")

    if institution.name == "imss_mx_employment":
        assert password is None
    else:
        assert password is not None
        assert password.type == "password"


@pytest.mark.parametrize(
    "institution",
    [
        institution
        for institution in SANDBOX_INSTITUTIONS
        if institution.type == "bank" and country_segment(institution) == "co"
    ],
    ids=institution_ids,
)
def test_colombian_bank_has_document_type_select(institution: Institution) -> None:
    username_type = require_field(institution, "username_type")

    assert username_type.type == "select"
    assert username_type.optional is False
    assert isinstance(username_type.values, list)
    labels = {value.code: value.label for value in username_type.values}
    assert labels == COLOMBIAN_DOCUMENT_LABELS
    assert labels["001"] == "Cédula de Ciudadanía"


def test_colombian_banks_are_covered() -> None:
    colombian_banks = [
        institution.name
        for institution in SANDBOX_INSTITUTIONS
        if institution.type == "bank" and country_segment(institution) == "co"
    ]

    assert len(colombian_banks) == 5


@pytest.mark.parametrize(
    "institution",
    [
        institution
        for institution in SANDBOX_INSTITUTIONS
        if institution.type == "bank" and country_segment(institution) == "br"
    ],
    ids=institution_ids,
)
def test_brazilian_bank_has_optional_document_type(institution: Institution) -> None:
    username_type = require_field(institution, "username_type")

    assert username_type.type == "select"
    assert username_type.optional is True
    assert isinstance(username_type.values, list)
    labels = {value.code: value.label for value in username_type.values}
    assert labels == BRAZILIAN_DOCUMENT_LABELS


@all_institutions
def test_document_type_only_on_co_and_br_banks(institution: Institution) -> None:
    has_document_type = institution.field_named("username_type") is not None
    expected = institution.type == "bank" and country_segment(institution) in {"co", "br"}

    assert has_document_type == expected


@all_institutions
def test_second_credentials_only_on_ironbank(institution: Institution) -> None:
    username2 = institution.field_named("username2")
    password2 = institution.field_named("password2")

    if brand_of(institution) == "ironbank":
        assert username2 is not None
        assert password2 is not None
        assert username2.type == "text"
        assert password2.type == "password"
        assert re.fullmatch(username2.validation, username2.placeholder)
    else:
        assert username2 is None
        assert password2 is None


def test_fiscal_form_asks_for_rfc_and_ciec() -> None:
    tatooine = find_by_name("tatooine_mx_fiscal")
    assert tatooine is not None

    assert tatooine.type == "fiscal"
    assert [form_field.name for form_field in tatooine.form_fields] == ["username", "password"]
    rfc = require_field(tatooine, "username")
    assert rfc.label == "RFC"
    assert re.fullmatch(rfc.validation, rfc.placeholder)
    assert re.fullmatch(rfc.validation, "PFIS010101000")  # a person: 4 letters
    assert re.fullmatch(rfc.validation, "ABC010101AB1")  # a company: 3 letters
    assert not re.fullmatch(rfc.validation, "user_valid")
    assert not re.fullmatch(rfc.validation, "PFIS0101010")
    assert require_field(tatooine, "password").label == "CIEC"


def test_imss_form_asks_only_for_curp() -> None:
    imss = find_by_name("imss_mx_employment")
    assert imss is not None

    assert imss.type == "employment"
    assert [form_field.name for form_field in imss.form_fields] == ["username"]
    curp = require_field(imss, "username")
    assert curp.label == "CURP"
    assert re.fullmatch(curp.validation, curp.placeholder)
    assert re.fullmatch(curp.validation, "GOMC850101MDFRRR09")
    assert not re.fullmatch(curp.validation, "GOMC850101XDFRRR09")  # sex must be H or M


# --- Wire encoding --------------------------------------------------------------------------


@all_institutions
def test_institution_json_round_trip(institution: Institution) -> None:
    encoded = msgspec.json.encode(institution)

    assert msgspec.json.decode(encoded, type=Institution) == institution


@all_institutions
def test_values_key_only_on_select_fields(institution: Institution) -> None:
    document = msgspec.json.decode(msgspec.json.encode(institution))

    for form_field in document["form_fields"]:
        assert ("values" in form_field) == (form_field["type"] == "select"), form_field["name"]


# --- Checks against Belvo's OpenAPI spec ----------------------------------------------------


@pytest.fixture(scope="module")
def belvo_spec() -> dict[str, Any]:
    spec_path = os.environ.get("VINCULO_BELVO_SPEC")
    if not spec_path:
        pytest.skip(
            "VINCULO_BELVO_SPEC is not set. Set it to the path of Belvo's OpenAPI 1.35.0 "
            "YAML file to check the catalogue against the spec."
        )
    path = Path(spec_path)
    if not path.is_file():
        pytest.fail(f"VINCULO_BELVO_SPEC={spec_path!r} is not a file. Fix or unset it.")

    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


def openapi_to_json_schema(node: Any) -> Any:
    """Convert OpenAPI 3.0 `nullable: true` to a JSON Schema type list, recursively."""
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node

    converted = {key: openapi_to_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False) and "type" in converted:
        converted["type"] = [converted["type"], "null"]
    return converted


def spec_resource_names(spec: dict[str, Any]) -> set[str]:
    """Read the resource names listed in the description of `Institution.resources`.

    Spec 1.35.0 documents the allowed values as a bullet list, not as a JSON Schema enum.
    """
    description = spec["components"]["schemas"]["Institution"]["properties"]["resources"][
        "description"
    ]
    return set(re.findall(r"`([A-Z_]+)`", description))


def test_spec_resource_list_parses(belvo_spec: dict[str, Any]) -> None:
    names = spec_resource_names(belvo_spec)

    assert "ACCOUNTS" in names
    assert "TAX_RETURNS" in names
    assert len(names) >= 10


@all_institutions
def test_resources_are_in_spec_list(institution: Institution, belvo_spec: dict[str, Any]) -> None:
    allowed = spec_resource_names(belvo_spec)

    assert set(institution.resources) <= allowed


@pytest.fixture(scope="module")
def institution_validator(belvo_spec: dict[str, Any]) -> jsonschema.Draft202012Validator:
    components = openapi_to_json_schema(belvo_spec["components"])
    schema = {"$ref": "#/components/schemas/Institution", "components": components}
    return jsonschema.Draft202012Validator(schema)


@all_institutions
def test_institution_validates_against_spec_schema(
    institution: Institution, institution_validator: jsonschema.Draft202012Validator
) -> None:
    document = msgspec.json.decode(msgspec.json.encode(institution))

    institution_validator.validate(document)


@all_institutions
def test_institution_has_every_spec_property(
    institution: Institution, belvo_spec: dict[str, Any]
) -> None:
    spec_properties = set(belvo_spec["components"]["schemas"]["Institution"]["properties"])
    document = msgspec.json.decode(msgspec.json.encode(institution))

    assert spec_properties <= set(document)
    # The legacy single-country field is the only one outside spec 1.35.0.
    assert set(document) - spec_properties == {"country_code"}


# --- Documentation --------------------------------------------------------------------------


@all_institutions
def test_docs_list_institution(institution: Institution) -> None:
    page = DOCS_PAGE.read_text(encoding="utf-8")

    assert f"`{institution.name}`" in page
    assert f"| {institution.id} |" in page
