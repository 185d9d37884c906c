"""Money helpers: rounding to cents and converting the MXN price scale to each currency.

Amounts in the plans and catalogues are written in Mexican pesos. `CurrencyRules.per_mxn`
converts them, so a price means the same thing in every country. The factors
approximate 2024-2025 exchange rates (about 220 COP and 0.30 BRL per MXN).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")
ZERO: Final = Decimal("0.00")


def to_money(value: Decimal) -> Decimal:
    """Round to cents, half up."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class CurrencyRules:
    """Conversion factor and rounding steps of one currency."""

    code: str
    # Units of this currency that buy what 1 MXN buys.
    per_mxn: Decimal
    # Smallest step of shop prices and card purchases.
    price_step: Decimal
    # Step of round sums such as cash withdrawals, rents and credit limits.
    round_step: Decimal

    def convert(self, amount_mxn: Decimal | int, *, step: Decimal | None = None) -> Decimal:
        """Convert an MXN amount and round it half up to `step` (the price step by default)."""
        return self.round(Decimal(amount_mxn) * self.per_mxn, step=step)

    def round(self, amount: Decimal, *, step: Decimal | None = None) -> Decimal:
        """Round an amount of this currency half up to `step`, and to at least one step."""
        unit = self.price_step if step is None else step
        units = (amount / unit).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return to_money(max(units, Decimal(1)) * unit)

    def draw(
        self,
        rng: random.Random,
        low_mxn: Decimal | int,
        high_mxn: Decimal | int,
        *,
        step: Decimal | None = None,
    ) -> Decimal:
        """Draw an amount uniformly from the multiples of `step` between the converted bounds."""
        return self.draw_local(
            rng, Decimal(low_mxn) * self.per_mxn, Decimal(high_mxn) * self.per_mxn, step=step
        )

    def draw_local(
        self,
        rng: random.Random,
        low: Decimal,
        high: Decimal,
        *,
        step: Decimal | None = None,
    ) -> Decimal:
        """Draw an amount uniformly from the multiples of `step` between two amounts of this
        currency. The result is at least one step."""
        unit = self.price_step if step is None else step
        low = (low / unit).to_integral_value(rounding=ROUND_CEILING)
        high = (high / unit).to_integral_value(rounding=ROUND_FLOOR)
        low = max(low, Decimal(1))
        high = max(high, low)
        return to_money(rng.randint(int(low), int(high)) * unit)

    def floor_to_step(self, amount: Decimal, step: Decimal | None = None) -> Decimal:
        """Round `amount` down to a multiple of `step` (the round step by default)."""
        unit = self.round_step if step is None else step
        return to_money((amount / unit).to_integral_value(rounding=ROUND_FLOOR) * unit)


CURRENCY_BY_COUNTRY: Final[dict[str, CurrencyRules]] = {
    "MX": CurrencyRules("MXN", Decimal(1), CENT, Decimal(100)),
    "CO": CurrencyRules("COP", Decimal(220), Decimal(50), Decimal(10_000)),
    "BR": CurrencyRules("BRL", Decimal("0.30"), CENT, Decimal(10)),
}
