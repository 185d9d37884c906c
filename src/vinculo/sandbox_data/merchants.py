"""Made-up merchants, recurring bills and the spending habits of sandbox users.

Merchant websites use the reserved `.example` top-level domain, and logos live on the
sandbox host, so no URL can reach a real business.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from vinculo.sandbox_data.categories import TransactionCategory, TransactionSubcategory
from vinculo.sandbox_data.models import Merchant
from vinculo.sandbox_data.names import slug

_LOGO_HOST: Final = "https://sandbox.vinculo.example/merchants"


def merchant(name: str) -> Merchant:
    """Build a merchant with a `.example` website and a logo on the sandbox host."""
    merchant_slug = slug(name)
    return Merchant(
        merchant_name=name,
        website=f"https://{merchant_slug}.example",
        logo=f"{_LOGO_HOST}/{merchant_slug}.png",
    )


@dataclass(frozen=True, slots=True)
class SpendingKind:
    """One kind of everyday purchase and how often a user makes it."""

    key: str
    category: TransactionCategory
    subcategory: TransactionSubcategory | None
    # Probability of one purchase on each weekday, Monday first.
    daily_probability: tuple[float, float, float, float, float, float, float]
    # Price range in MXN, before scaling by the user's income.
    low_mxn: int
    high_mxn: int
    # True when users who have a credit card still pay it by debit card.
    paid_by_debit: bool
    needs_car: bool = False


SPENDING_KINDS: Final = (
    SpendingKind(
        "groceries",
        "Food & Groceries",
        "Groceries",
        (0.05, 0.04, 0.06, 0.05, 0.08, 0.3, 0.15),
        300,
        1800,
        paid_by_debit=False,
    ),
    SpendingKind(
        "restaurants",
        "Food & Groceries",
        "Restaurants",
        (0.06, 0.06, 0.08, 0.1, 0.25, 0.25, 0.15),
        180,
        820,
        paid_by_debit=False,
    ),
    SpendingKind(
        "coffee",
        "Food & Groceries",
        "Bakery & Coffee",
        (0.25, 0.25, 0.25, 0.25, 0.2, 0.1, 0.1),
        45,
        130,
        paid_by_debit=True,
    ),
    SpendingKind(
        "convenience",
        "Food & Groceries",
        "Convenience Store",
        (0.12, 0.12, 0.12, 0.12, 0.15, 0.2, 0.15),
        30,
        250,
        paid_by_debit=True,
    ),
    SpendingKind(
        "delivery",
        "Food & Groceries",
        "Delivery",
        (0.03, 0.03, 0.04, 0.05, 0.08, 0.08, 0.1),
        150,
        450,
        paid_by_debit=False,
    ),
    SpendingKind(
        "rides",
        "Transport & Travel",
        "Taxis & Rideshares",
        (0.1, 0.1, 0.1, 0.1, 0.15, 0.15, 0.08),
        60,
        280,
        paid_by_debit=False,
    ),
    SpendingKind(
        "transit",
        "Transport & Travel",
        "Public Transit",
        (0.07, 0.05, 0.05, 0.05, 0.05, 0.02, 0.01),
        100,
        300,
        paid_by_debit=True,
    ),
    SpendingKind(
        "gas",
        "Transport & Travel",
        "Gas",
        (0.05, 0.04, 0.04, 0.05, 0.06, 0.07, 0.04),
        500,
        1000,
        paid_by_debit=False,
        needs_car=True,
    ),
    SpendingKind(
        "online",
        "Personal Shopping",
        "E-commerce",
        (0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03),
        250,
        2200,
        paid_by_debit=False,
    ),
    SpendingKind(
        "pharmacy",
        "Home & Life",
        "Pharmacies",
        (0.04, 0.04, 0.04, 0.04, 0.04, 0.05, 0.03),
        90,
        650,
        paid_by_debit=True,
    ),
    SpendingKind(
        "clothing",
        "Personal Shopping",
        "Clothing & Accessories",
        (0.01, 0.01, 0.01, 0.01, 0.015, 0.03, 0.025),
        400,
        2400,
        paid_by_debit=False,
    ),
)

# Merchants of each spending kind, by language: Spanish for Mexico and Colombia,
# Portuguese for Brazil.
_SPENDING_MERCHANT_NAMES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "es": {
        "groceries": ("Supermercados La Canasta", "Mercado Sol y Luna", "Bodega Económica"),
        "restaurants": ("Taquería El Fogón", "Restaurante La Terraza", "Cocina de la Abuela"),
        "coffee": ("Café Tostado Fino", "Panadería La Espiga"),
        "convenience": ("Tienda Rápida 24", "Minisúper La Esquina"),
        "delivery": ("Antojo a Domicilio", "PideYa"),
        "rides": ("Viaje Ya", "Ruta Express"),
        "transit": ("Recarga Tarjeta de Transporte",),
        "gas": ("Gasolinera Petroval", "Estación Rumbo"),
        "online": ("Mercadito Online", "CompraFácil"),
        "pharmacy": ("Farmacias Salud Total", "Botica del Pueblo"),
        "clothing": ("Moda Urbana", "Almacenes Telar"),
    },
    "pt": {
        "groceries": ("Supermercado Cesta Cheia", "Mercado Bom Dia", "Atacado Econômico"),
        "restaurants": ("Cantina da Nonna", "Restaurante Sabor Mineiro", "Churrascaria Brasa Viva"),
        "coffee": ("Padaria Pão Quente", "Café Grão Fino"),
        "convenience": ("Conveniência Parada 24h", "Mercadinho da Esquina"),
        "delivery": ("Fome Já Delivery", "Pede Aí"),
        "rides": ("Vai Já", "Rota Express"),
        "transit": ("Recarga Cartão Transporte",),
        "gas": ("Posto Estrada Real", "Posto Rumo Certo"),
        "online": ("Vitrine Online", "Compra Fácil"),
        "pharmacy": ("Drogaria Vida Saudável", "Farmácia Bem-Estar"),
        "clothing": ("Moda Urbana", "Lojas Tecelagem"),
    },
}

SPENDING_MERCHANTS: Final[dict[str, dict[str, tuple[Merchant, ...]]]] = {
    language: {kind: tuple(merchant(name) for name in names) for kind, names in kinds.items()}
    for language, kinds in _SPENDING_MERCHANT_NAMES.items()
}


@dataclass(frozen=True, slots=True)
class BillKind:
    """A monthly utility bill, paid by direct debit from the checking account."""

    key: str
    subcategory: TransactionSubcategory
    low_mxn: int
    high_mxn: int


BILL_KINDS: Final = (
    BillKind("phone", "Telecommunications", 249, 549),
    BillKind("internet", "Telecommunications", 349, 799),
    BillKind("electricity", "Electricity & Energy", 180, 950),
    BillKind("water", "Water", 120, 420),
)

BILLERS: Final[dict[str, dict[str, Merchant]]] = {
    "MX": {
        "phone": merchant("Telefonía Quetzal"),
        "internet": merchant("Fibra Azteca Internet"),
        "electricity": merchant("Eléctrica del Centro"),
        "water": merchant("Aguas Municipales"),
    },
    "CO": {
        "phone": merchant("Telefonía Cóndor"),
        "internet": merchant("Fibra Andina"),
        "electricity": merchant("Energía del Valle ESP"),
        "water": merchant("Acueducto Municipal ESP"),
    },
    "BR": {
        "phone": merchant("Telefonia Arara"),
        "internet": merchant("Fibra Tropical"),
        "electricity": merchant("Companhia de Energia do Planalto"),
        "water": merchant("Saneamento Águas Claras"),
    },
}


@dataclass(frozen=True, slots=True)
class Subscription:
    """A monthly subscription with a fixed price in each currency."""

    merchant: Merchant
    category: TransactionCategory
    subcategory: TransactionSubcategory
    prices: dict[str, Decimal]


SUBSCRIPTIONS: Final = (
    Subscription(
        merchant("Cinemateca Plus"),
        "Online Platforms & Leisure",
        "Movie & Audio",
        {"MXN": Decimal("219.00"), "COP": Decimal("38900.00"), "BRL": Decimal("44.90")},
    ),
    Subscription(
        merchant("Sonora Música"),
        "Online Platforms & Leisure",
        "Movie & Audio",
        {"MXN": Decimal("129.00"), "COP": Decimal("18900.00"), "BRL": Decimal("21.90")},
    ),
    Subscription(
        merchant("NubeDrive"),
        "Online Platforms & Leisure",
        "Apps, Software and Cloud Services",
        {"MXN": Decimal("49.00"), "COP": Decimal("8900.00"), "BRL": Decimal("9.90")},
    ),
    Subscription(
        merchant("Gimnasio Pulso"),
        "Home & Life",
        "Gyms & Fitness",
        {"MXN": Decimal("599.00"), "COP": Decimal("99900.00"), "BRL": Decimal("119.90")},
    ),
)
