"""Made-up people, companies and addresses of the three sandbox countries.

Names are common given names and surnames. Companies, streets and e-mail domains are
invented, and e-mail and web addresses use the reserved `.example` top-level domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from vinculo.sandbox_data.names import ascii_lower

Sex = Literal["H", "M"]


def _names(text: str) -> tuple[str, ...]:
    """Split a comma-separated list of names."""
    return tuple(name.strip() for name in text.split(","))


@dataclass(frozen=True, slots=True)
class City:
    name: str
    # State or department as written in addresses, such as "CDMX" or "SP".
    region: str
    # CURP birth state code of Mexican cities, empty elsewhere.
    curp_state: str
    # Telephone area code of Mexican and Brazilian cities, empty for Colombian ones.
    area_code: str
    postal_prefix: str
    districts: tuple[str, ...]
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Person:
    given_names: str
    paternal_surname: str
    # None for Brazilians, whose family names are all in `paternal_surname`.
    maternal_surname: str | None
    sex: Sex
    birth_date: date
    city: City

    @property
    def full_name(self) -> str:
        parts = [self.given_names, self.paternal_surname, self.maternal_surname]
        return " ".join(part for part in parts if part)


_SPANISH_MALE_NAMES: Final = _names(
    "José Luis, Juan Carlos, Miguel Ángel, Alejandro, Carlos, Daniel, Diego, Eduardo, "
    "Fernando, Jorge, Luis, Manuel, Ricardo, Sergio, Andrés, Pablo"
)
_SPANISH_FEMALE_NAMES: Final = _names(
    "María Fernanda, María José, Ana, Andrea, Carmen, Claudia, Daniela, Gabriela, Laura, "
    "Lucía, Mariana, Patricia, Sofía, Valeria, Verónica, Paola"
)
_MEXICAN_SURNAMES: Final = _names(
    "Hernández, García, Martínez, López, González, Pérez, Rodríguez, Sánchez, Ramírez, Cruz, "
    "Flores, Gómez, Morales, Vázquez, Reyes, Jiménez, Torres, Díaz, Gutiérrez, Ruiz, "
    "Mendoza, Aguilar, Ortiz, Muñoz, Castillo, Romero"
)
_COLOMBIAN_SURNAMES: Final = _names(
    "Rodríguez, Gómez, González, Martínez, García, López, Hernández, Sánchez, Ramírez, "
    "Pérez, Díaz, Muñoz, Rojas, Moreno, Jiménez, Vargas, Castro, Ortiz, Restrepo, Ospina, "
    "Cárdenas, Salazar, Zapata, Giraldo, Quintero"
)
_BRAZILIAN_MALE_NAMES: Final = _names(
    "João Pedro, Lucas, Gabriel, Rafael, Pedro Henrique, Mateus, Gustavo, Felipe, Bruno, "
    "Thiago, André, Rodrigo, Marcelo, Paulo, Vinícius, Caio"
)
_BRAZILIAN_FEMALE_NAMES: Final = _names(
    "Ana Beatriz, Maria Eduarda, Juliana, Camila, Fernanda, Larissa, Beatriz, Mariana, "
    "Letícia, Amanda, Patrícia, Renata, Carolina, Aline, Bianca, Luana"
)
_BRAZILIAN_SURNAMES: Final = _names(
    "Silva, Santos, Oliveira, Souza, Rodrigues, Ferreira, Alves, Pereira, Lima, Gomes, Costa, "
    "Ribeiro, Martins, Carvalho, Almeida, Lopes, Soares, Fernandes, Vieira, Barbosa, Rocha, "
    "Dias, Nascimento, Andrade, Moreira"
)

CITIES: Final[dict[str, tuple[City, ...]]] = {
    "MX": (
        City(
            "Ciudad de México", "CDMX", "DF", "55", "0",
            _names("Roma Norte, Narvarte Poniente, Del Valle Centro, Coyoacán Centro"),
            _names("Calle Tonalá, Av. Universidad, Calle Amores, Calle Pitágoras"),
        ),
        City(
            "Guadalajara", "Jal.", "JC", "33", "44",
            _names("Americana, Providencia, Chapalita, Ladrón de Guevara"),
            _names("Av. Chapultepec, Calle Libertad, Av. Guadalupe, Calle Morelos"),
        ),
        City(
            "Monterrey", "N.L.", "NL", "81", "64",
            _names("Obispado, Mitras Centro, Contry, Cumbres"),
            _names("Av. Hidalgo, Calle Padre Mier, Av. Garza Sada, Calle Zaragoza"),
        ),
    ),
    "CO": (
        City(
            "Bogotá", "D.C.", "", "", "11",
            _names("Chapinero, Teusaquillo, Usaquén, Suba"),
            _names("Calle 72, Carrera 15, Calle 116, Carrera 7"),
        ),
        City(
            "Medellín", "Antioquia", "", "", "05",
            _names("El Poblado, Laureles, Belén, Envigado"),
            _names("Carrera 43A, Calle 10, Circular 4, Carrera 70"),
        ),
        City(
            "Cali", "Valle del Cauca", "", "", "76",
            _names("San Fernando, Granada, Ciudad Jardín, El Peñón"),
            _names("Avenida 6N, Calle 5, Carrera 100, Calle 15"),
        ),
    ),
    "BR": (
        City(
            "São Paulo", "SP", "", "11", "0",
            _names("Pinheiros, Vila Mariana, Moema, Santana"),
            _names("Rua dos Pinheiros, Rua Domingos de Morais, Avenida Ibirapuera, Rua Aurora"),
        ),
        City(
            "Rio de Janeiro", "RJ", "", "21", "2",
            _names("Botafogo, Tijuca, Laranjeiras, Copacabana"),
            _names("Rua São Clemente, Rua Conde de Bonfim, Rua Alice, Rua Barata Ribeiro"),
        ),
        City(
            "Belo Horizonte", "MG", "", "31", "30",
            _names("Savassi, Funcionários, Lourdes, Santa Tereza"),
            _names("Rua Pernambuco, Avenida do Contorno, Rua da Bahia, Rua Sergipe"),
        ),
    ),
}  # fmt: skip

_EMAIL_DOMAINS: Final = ("correo.example", "mail.example", "webmail.example")

# Employers that pay the salaries.
EMPLOYERS: Final[dict[str, tuple[str, ...]]] = {
    "MX": _names(
        "Servicios Logísticos del Bajío SA de CV, Grupo Textil Anáhuac SA de CV, "
        "Tecnologías Pirámide SAPI de CV, Alimentos La Huasteca SA de CV"
    ),
    "CO": _names(
        "Soluciones Andinas SAS, Confecciones El Poblado SAS, Logística Caribe SAS, "
        "Software Cordillera SAS"
    ),
    "BR": _names(
        "Transportes Serra Azul Ltda, Tecnologia Horizonte Ltda, Alimentos Vale Verde S.A., "
        "Confecções Ipê Amarelo Ltda"
    ),
}

# Legal name and trade name of the companies that business users run.
BUSINESSES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "MX": (
        ("Comercializadora Alfa del Norte SA de CV", "Alfa del Norte"),
        ("Distribuidora Maya Peninsular SA de CV", "Maya Peninsular"),
        ("Talleres Industriales Sierra Madre SA de CV", "Talleres Sierra Madre"),
    ),
    "CO": (
        ("Distribuidora Los Andes SAS", "Los Andes"),
        ("Café Montaña Alta SAS", "Montaña Alta"),
        ("Ingeniería Río Magdalena SAS", "Río Magdalena"),
    ),
    "BR": (
        ("Comercial Mata Atlântica Ltda", "Mata Atlântica"),
        ("Indústria Cerrado Forte Ltda", "Cerrado Forte"),
        ("Distribuidora Rio Doce Ltda", "Rio Doce"),
    ),
}

# Customers and suppliers of business users.
TRADE_PARTNERS: Final[dict[str, tuple[str, ...]]] = {
    "MX": _names(
        "Abarrotes El Faro, Ferretería Los Volcanes, Papelería Central del Golfo, "
        "Constructora Pedregal, Hotel Mar de Cortés, Clínica San Ángel, Transportes Cumbres, "
        "Empaques del Pacífico, Materias Primas Tula"
    ),
    "CO": _names(
        "Tienda La Sabana, Ferretería El Nogal, Constructora Guadalupe, Hotel Bahía Dorada, "
        "Clínica Santa Fe, Transportes La Línea, Empaques del Valle, Insumos Boyacá, "
        "Droguería El Prado"
    ),
    "BR": _names(
        "Mercado Bom Preço, Ferragens Paraná, Construtora Planalto, Hotel Baía Azul, "
        "Clínica Boa Vista, Transportadora Sul, Embalagens Litoral, Insumos Minas, "
        "Papelaria Central"
    ),
}


def draw_person(rng: random.Random, country_code: str, *, oldest: int, youngest: int) -> Person:
    """Draw a person born between the years `oldest` and `youngest`, both included."""
    sex: Sex = "H" if rng.random() < 0.5 else "M"
    if country_code == "BR":
        given_names = rng.choice(_BRAZILIAN_MALE_NAMES if sex == "H" else _BRAZILIAN_FEMALE_NAMES)
        family = " ".join(rng.sample(_BRAZILIAN_SURNAMES, 2))
        maternal = None
    else:
        surnames = _MEXICAN_SURNAMES if country_code == "MX" else _COLOMBIAN_SURNAMES
        given_names = rng.choice(_SPANISH_MALE_NAMES if sex == "H" else _SPANISH_FEMALE_NAMES)
        family, maternal = rng.sample(surnames, 2)
    birth_date = date(rng.randint(oldest, youngest), rng.randint(1, 12), rng.randint(1, 28))
    return Person(given_names, family, maternal, sex, birth_date, rng.choice(CITIES[country_code]))


def email_for(rng: random.Random, given_names: str, surname: str) -> str:
    """Build an address such as `maria.gomez84@correo.example`."""
    local = f"{ascii_lower(given_names).split()[0]}.{ascii_lower(surname).split()[0]}"
    return f"{local}{rng.randint(1, 99)}@{rng.choice(_EMAIL_DOMAINS)}"


def phone_number(rng: random.Random, country_code: str, city: City) -> str:
    """Draw a mobile number in the country's international format.

    Mexico `+52 55 1234 5678`, Colombia `+57 310 123 4567`, Brazil `+55 11 91234-5678`.
    """
    if country_code == "MX":
        return f"+52 {city.area_code} {rng.randint(1000, 9999)} {rng.randint(0, 9999):04d}"
    if country_code == "CO":
        operator = rng.randint(300, 324)
        return f"+57 {operator} {rng.randint(200, 999)} {rng.randint(0, 9999):04d}"
    return f"+55 {city.area_code} 9{rng.randint(6000, 9999)}-{rng.randint(0, 9999):04d}"


def _postal_code(rng: random.Random, prefix: str, length: int) -> str:
    suffix_length = length - len(prefix)
    return prefix + f"{rng.randint(0, 10**suffix_length - 1):0{suffix_length}d}"


def address(rng: random.Random, country_code: str, city: City) -> str:
    """Draw a street address in the country's usual layout."""
    street = rng.choice(city.streets)
    district = rng.choice(city.districts)
    if country_code == "MX":
        postal_code = _postal_code(rng, city.postal_prefix, 5)
        number = rng.randint(1, 1999)
        return f"{street} {number}, Col. {district}, {postal_code} {city.name}, {city.region}"
    if country_code == "CO":
        house = f"{rng.randint(1, 140)}-{rng.randint(1, 99)}"
        apartment = rng.randint(101, 1204)
        return f"{street} # {house}, Apto {apartment}, {district}, {city.name}, {city.region}"
    digits = _postal_code(rng, city.postal_prefix, 8)
    postal_code = f"{digits[:5]}-{digits[5:]}"
    building, apartment = rng.randint(1, 2500), rng.randint(11, 154)
    return (
        f"{street}, {building}, apto {apartment}, {district}, "
        f"{city.name} - {city.region}, {postal_code}"
    )
