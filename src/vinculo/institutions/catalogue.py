"""The sandbox catalogue: Belvo's demo institutions, served by the sandbox connector.

Institution ids are part of the public API (`GET /api/institutions/{id}/`), so each one is
assigned explicitly and must never change. Add new institutions with new ids.
`erebor_mx_retail` keeps id 1003 and primary color `#056dae`, the values of the
`Institution` example in Belvo's OpenAPI spec 1.35.0.

The `Institution` objects are shared by every request, so callers must treat them as
read-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final, Literal, NamedTuple, TypeVar

from vinculo.institutions.schemas import (
    Feature,
    FormField,
    FormFieldValue,
    Institution,
    InstitutionType,
)

# A host under the reserved `.example` top-level domain, so the URLs can never resolve.
_SANDBOX_HOST: Final = "https://sandbox.vinculo.example"

_NON_EMPTY_PATTERN: Final = "^.{1,}$"

_BANK_RESOURCES: Final = (
    "ACCOUNTS",
    "BALANCES",
    "INCOMES",
    "OWNERS",
    "RECURRING_EXPENSES",
    "RISK_INSIGHTS",
    "TRANSACTIONS",
)
_FISCAL_RESOURCES: Final = ("INVOICES", "TAX_COMPLIANCE_STATUS", "TAX_RETURNS", "TAX_STATUS")
# NOTE: Belvo's spec 1.35.0 lists no employment resource (EMPLOYMENTS and EMPLOYMENT_RECORDS
# appear only in later versions), so gig and employment institutions offer OWNERS alone.
_EMPLOYMENT_RESOURCES: Final = ("OWNERS",)

_Language = Literal["es", "pt"]

_LANGUAGE_BY_COUNTRY: Final[dict[str, _Language]] = {"MX": "es", "CO": "es", "BR": "pt"}


class _FieldText(NamedTuple):
    """The user-facing texts of one form field."""

    label: str
    placeholder: str
    validation_message: str


# Texts of the bank and gig-platform form fields, in the language of the institution's country.
_FIELD_TEXT: Final[dict[_Language, dict[str, _FieldText]]] = {
    "es": {
        "username": _FieldText("Usuario", "Usuario", "Usuario inválido"),
        "document_number": _FieldText(
            "Número de documento", "1020304050", "Número de documento inválido"
        ),
        "password": _FieldText("Contraseña", "Contraseña", "Contraseña inválida"),
        "username2": _FieldText(
            "Código de agencia", "0001", "Código de agencia inválido: usa 4 dígitos"
        ),
        "password2": _FieldText("PIN", "PIN", "PIN inválido: usa de 4 a 6 dígitos"),
        "username_type": _FieldText(
            "Tipo de documento", "Elige un tipo de documento", "Tipo de documento inválido"
        ),
    },
    "pt": {
        "username": _FieldText("Usuário", "Usuário", "Usuário inválido"),
        "password": _FieldText("Senha", "Senha", "Senha inválida"),
        "username2": _FieldText("Agência", "0001", "Agência inválida: use 4 dígitos"),
        "password2": _FieldText("PIN", "PIN", "PIN inválido: use de 4 a 6 dígitos"),
        "username_type": _FieldText(
            "Tipo de documento", "Escolha um tipo de documento", "Tipo de documento inválido"
        ),
    },
}


class _DocumentType(NamedTuple):
    """One accepted `username_type`: its code from Belvo's table and the document's format."""

    code: str
    label: str
    validation: str
    validation_message: str
    placeholder: str


# The validation patterns of both document tables are loose format checks for the sandbox,
# not the issuing authorities' full rules (check digits are not verified).
_CO_ID_NUMBER: Final = ("^[0-9]{6,11}$", "Número de documento inválido: usa de 6 a 11 dígitos")
_CO_NIT: Final = (
    "^[0-9]{9}-?[0-9]?$",
    "NIT inválido: usa 9 dígitos, con o sin dígito de verificación",
)

_COLOMBIAN_DOCUMENT_TYPES: Final = (
    _DocumentType("001", "Cédula de Ciudadanía", *_CO_ID_NUMBER, "1020304050"),
    _DocumentType("002", "Cédula de Extranjería", *_CO_ID_NUMBER, "1234567"),
    _DocumentType(
        "003",
        "Pasaporte",
        "^[A-Za-z0-9]{5,12}$",
        "Número de pasaporte inválido: usa de 5 a 12 letras o dígitos",
        "AB1234567",
    ),
    _DocumentType("004", "Tarjeta de Identidad", *_CO_ID_NUMBER, "1002003004"),
    _DocumentType("005", "Registro Civil", *_CO_ID_NUMBER, "1002003004"),
    _DocumentType("006", "Número Identificación Personal", *_CO_ID_NUMBER, "1002003004"),
    _DocumentType("020", "NIT", *_CO_NIT, "900123456-7"),
    _DocumentType("021", "NIT Persona Natural", *_CO_NIT, "900123456-7"),
    _DocumentType("022", "NIT Persona Extranjera", *_CO_NIT, "900123456-7"),
    _DocumentType("023", "NIT Persona Jurídica", *_CO_NIT, "900123456-7"),
    _DocumentType("024", "NIT Menores", *_CO_NIT, "900123456-7"),
    _DocumentType("025", "NIT Desasociado", *_CO_NIT, "900123456-7"),
)

_BRAZILIAN_DOCUMENT_TYPES: Final = (
    _DocumentType(
        "100",
        "Agência e conta",
        "^[0-9]{4}-?[0-9-]{5,14}$",
        "Agência e conta inválidas: use os 4 dígitos da agência e o número da conta",
        "0001-12345678",
    ),
    _DocumentType(
        "102",
        "Cartão de crédito",
        "^[0-9]{15,16}$",
        "Número de cartão inválido: use 15 ou 16 dígitos",
        "1234567890123456",
    ),
    _DocumentType(
        "103",
        "CPF",
        r"^[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-?[0-9]{2}$",
        "CPF inválido: use 11 dígitos, por exemplo 123.456.789-09",
        "123.456.789-09",
    ),
)

# An RFC has 3 letters (companies) or 4 letters (people), a yymmdd date and a 3-character key.
_RFC_PATTERN: Final = "^[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}$"
# A CURP has 4 letters, a yymmdd date, the sex (H or M), 5 letters, a differentiating
# character and a check digit.
_CURP_PATTERN: Final = "^[A-Z][AEIOUX][A-Z]{2}[0-9]{6}[HM][A-Z]{5}[A-Z0-9][0-9]$"


_Key = TypeVar("_Key")


def _country_of(name: str) -> str:
    """Return the upper-case country code in an institution name such as `erebor_mx_retail`."""
    return name.split("_")[1].upper()


def _brand_of(name: str) -> str:
    return name.split("_")[0]


def _text_field(name: str, text: _FieldText, validation: str = _NON_EMPTY_PATTERN) -> FormField:
    return FormField(
        name=name,
        type="text",
        label=text.label,
        validation=validation,
        placeholder=text.placeholder,
        validation_message=text.validation_message,
    )


def _password_field(name: str, text: _FieldText, validation: str = _NON_EMPTY_PATTERN) -> FormField:
    return FormField(
        name=name,
        type="password",
        label=text.label,
        validation=validation,
        placeholder=text.placeholder,
        validation_message=text.validation_message,
    )


def _document_type_field(
    text: _FieldText, document_types: Iterable[_DocumentType], *, optional: bool
) -> FormField:
    """Build the `username_type` select, whose validation accepts exactly the listed codes."""
    values = [
        FormFieldValue(
            code=document.code,
            label=document.label,
            validation=document.validation,
            validation_message=document.validation_message,
            placeholder=document.placeholder,
        )
        for document in document_types
    ]
    codes = "|".join(value.code for value in values)
    return FormField(
        name="username_type",
        type="select",
        label=text.label,
        validation=f"^({codes})$",
        placeholder=text.placeholder,
        validation_message=text.validation_message,
        values=values,
        optional=optional,
    )


def _bank_form(country_code: str, *, branch_and_pin: bool) -> list[FormField]:
    """Build a bank login form in the language of `country_code`.

    Colombian banks ask for the document type first, and their `username` is the document
    number. Brazilian banks offer an optional document type. With `branch_and_pin`, the
    form also requires a branch code (`username2`) and a PIN (`password2`).
    """
    texts = _FIELD_TEXT[_LANGUAGE_BY_COUNTRY[country_code]]
    form: list[FormField] = []

    if country_code == "CO":
        form.append(
            _document_type_field(texts["username_type"], _COLOMBIAN_DOCUMENT_TYPES, optional=False)
        )
        form.append(_text_field("username", texts["document_number"]))
    elif country_code == "BR":
        form.append(
            _document_type_field(texts["username_type"], _BRAZILIAN_DOCUMENT_TYPES, optional=True)
        )
        form.append(_text_field("username", texts["username"]))
    else:
        form.append(_text_field("username", texts["username"]))

    form.append(_password_field("password", texts["password"]))

    if branch_and_pin:
        form.append(_text_field("username2", texts["username2"], "^[0-9]{4}$"))
        form.append(_password_field("password2", texts["password2"], "^[0-9]{4,6}$"))

    return form


def _institution(
    institution_id: int,
    name: str,
    display_name: str,
    institution_type: InstitutionType,
    primary_color: str,
    *,
    form_fields: list[FormField],
    resources: Iterable[str],
    token_required: bool = False,
) -> Institution:
    country_code = _country_of(name)
    brand = _brand_of(name)
    features = []
    if token_required:
        features.append(
            Feature(
                name="token_required",
                description="The institution may require an MFA token to log in",
            )
        )

    return Institution(
        id=institution_id,
        name=name,
        type=institution_type,
        website=f"{_SANDBOX_HOST}/institutions/{brand}/",
        display_name=display_name,
        country_codes=[country_code],
        country_code=country_code,
        primary_color=primary_color,
        logo=f"{_SANDBOX_HOST}/logos/{brand}.png",
        icon_logo=f"{_SANDBOX_HOST}/logos/{brand}-icon.svg",
        text_logo=f"{_SANDBOX_HOST}/logos/{brand}-text.svg",
        form_fields=form_fields,
        features=features,
        resources=list(resources),
        integration_type="credentials",
        status="healthy",
    )


def _bank(
    institution_id: int,
    name: str,
    display_name: str,
    primary_color: str,
    *,
    token_required: bool = False,
    branch_and_pin: bool = False,
) -> Institution:
    return _institution(
        institution_id,
        name,
        display_name,
        "bank",
        primary_color,
        form_fields=_bank_form(_country_of(name), branch_and_pin=branch_and_pin),
        resources=_BANK_RESOURCES,
        token_required=token_required,
    )


def _gig_platform(
    institution_id: int, name: str, display_name: str, primary_color: str
) -> Institution:
    """Build a gig-economy platform, which Belvo lists with type `employment`.

    Gig platforms log in with a plain username and password in every country, without the
    document types of the bank forms.
    """
    texts = _FIELD_TEXT[_LANGUAGE_BY_COUNTRY[_country_of(name)]]
    form_fields = [
        _text_field("username", texts["username"]),
        _password_field("password", texts["password"]),
    ]
    return _institution(
        institution_id,
        name,
        display_name,
        "employment",
        primary_color,
        form_fields=form_fields,
        resources=_EMPLOYMENT_RESOURCES,
    )


def _fiscal_form() -> list[FormField]:
    """Build the form of a Mexican tax authority login: the RFC and its password (CIEC)."""
    rfc = _FieldText("RFC", "XAXX010101000", "RFC inválido: usa 12 o 13 caracteres en mayúsculas")
    ciec = _FieldText("CIEC", "CIEC", "CIEC inválida")
    return [_text_field("username", rfc, _RFC_PATTERN), _password_field("password", ciec)]


def _curp_form() -> list[FormField]:
    """Build the IMSS form: the CURP and no password field.

    Belvo's spec 1.35.0 exempts `imss_mx_employment` from the password that every other
    institution requires.
    """
    curp = _FieldText(
        "CURP", "XEXX010101HNEXXXA4", "CURP inválida: usa 18 caracteres en mayúsculas"
    )
    return [_text_field("username", curp, _CURP_PATTERN)]


def _index_by(
    institutions: Iterable[Institution], key: Callable[[Institution], _Key]
) -> dict[_Key, Institution]:
    """Build a lookup table, raising ValueError when two institutions share a key."""
    index: dict[_Key, Institution] = {}
    for institution in institutions:
        institution_key = key(institution)
        if institution_key in index:
            raise ValueError(
                f"duplicate key {institution_key!r} in the sandbox catalogue: "
                f"{index[institution_key].name} and {institution.name}"
            )
        index[institution_key] = institution
    return index


_EREBOR_BLUE: Final = "#056dae"
_GRINGOTTS_GOLD: Final = "#b8860b"
_GOTHAM_GREY: Final = "#2b2d42"
_HEIMDALL_AMBER: Final = "#d4a017"
_IRONBANK_STEEL: Final = "#5c6670"
_GOONIES_ORANGE: Final = "#e4572e"
_PLANET_BLUE: Final = "#3a86ff"

SANDBOX_INSTITUTIONS: Final[tuple[Institution, ...]] = tuple(
    sorted(
        [
            _bank(1003, "erebor_mx_retail", "Erebor Mexico", _EREBOR_BLUE),
            _bank(1004, "erebor_co_retail", "Erebor Colombia", _EREBOR_BLUE),
            _bank(1005, "erebor_br_retail", "Erebor Brazil", _EREBOR_BLUE),
            _bank(1006, "gringotts_mx_retail", "Gringotts Mexico", _GRINGOTTS_GOLD),
            _bank(1007, "gringotts_co_retail", "Gringotts Colombia", _GRINGOTTS_GOLD),
            _bank(1008, "gringotts_br_retail", "Gringotts Brazil", _GRINGOTTS_GOLD),
            _bank(
                1009,
                "gotham_mx_business",
                "Gotham Business Mexico",
                _GOTHAM_GREY,
                token_required=True,
            ),
            _bank(
                1010,
                "gotham_co_business",
                "Gotham Business Colombia",
                _GOTHAM_GREY,
                token_required=True,
            ),
            _bank(
                1011,
                "gotham_br_business",
                "Gotham Business Brazil",
                _GOTHAM_GREY,
                token_required=True,
            ),
            _bank(
                1012, "heimdall_mx_retail", "Heimdall Mexico", _HEIMDALL_AMBER, token_required=True
            ),
            _bank(
                1013,
                "heimdall_co_retail",
                "Heimdall Colombia",
                _HEIMDALL_AMBER,
                token_required=True,
            ),
            _bank(
                1014, "heimdall_br_retail", "Heimdall Brazil", _HEIMDALL_AMBER, token_required=True
            ),
            _bank(
                1015, "ironbank_mx_retail", "Iron Bank Mexico", _IRONBANK_STEEL, branch_and_pin=True
            ),
            _bank(
                1016,
                "ironbank_co_retail",
                "Iron Bank Colombia",
                _IRONBANK_STEEL,
                branch_and_pin=True,
            ),
            _bank(
                1017, "ironbank_br_retail", "Iron Bank Brazil", _IRONBANK_STEEL, branch_and_pin=True
            ),
            _bank(
                1018,
                "ironbank_br_business",
                "Iron Bank Business Brazil",
                _IRONBANK_STEEL,
                branch_and_pin=True,
            ),
            _gig_platform(1019, "goonies_mx_gig", "Goonies Mexico", _GOONIES_ORANGE),
            _gig_platform(1020, "goonies_co_gig", "Goonies Colombia", _GOONIES_ORANGE),
            _gig_platform(1021, "goonies_br_gig", "Goonies Brazil", _GOONIES_ORANGE),
            _gig_platform(1022, "planet_mx_gig", "Planet Mexico", _PLANET_BLUE),
            _gig_platform(1023, "planet_co_gig", "Planet Colombia", _PLANET_BLUE),
            _gig_platform(1024, "planet_br_gig", "Planet Brazil", _PLANET_BLUE),
            _institution(
                1025,
                "tatooine_mx_fiscal",
                "Tatooine Mexico",
                "fiscal",
                "#c9a227",
                form_fields=_fiscal_form(),
                resources=_FISCAL_RESOURCES,
            ),
            _institution(
                1026,
                "imss_mx_employment",
                "IMSS Mexico",
                "employment",
                "#1f6e43",
                form_fields=_curp_form(),
                resources=_EMPLOYMENT_RESOURCES,
            ),
        ],
        key=lambda institution: institution.id,
    )
)

_BY_NAME: Final = _index_by(SANDBOX_INSTITUTIONS, lambda institution: institution.name)
_BY_ID: Final = _index_by(SANDBOX_INSTITUTIONS, lambda institution: institution.id)


def find_by_name(name: str) -> Institution | None:
    """Return the sandbox institution called `name` (such as `erebor_mx_retail`), or None."""
    return _BY_NAME.get(name)


def find_by_id(institution_id: int) -> Institution | None:
    """Return the sandbox institution with id `institution_id`, or None."""
    return _BY_ID.get(institution_id)
