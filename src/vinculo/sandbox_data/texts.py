"""Account labels and statement descriptions in each country's language and style.

Descriptions are format strings. `statement_text` fills them and writes them as bank
statements do: upper case, without accents.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Final

from vinculo.sandbox_data.names import normalize_name


@dataclass(frozen=True, slots=True)
class AccountLabels:
    # The institution's label for the kind of account (the `type` field).
    type: str
    # Format string of the account name, with `{brand}` and `{suffix}` (last 3 digits).
    name: str


@dataclass(frozen=True, slots=True)
class CountryTexts:
    language: str
    checking: AccountLabels
    savings: AccountLabels
    credit_card: AccountLabels
    loan: AccountLabels
    business_checking: AccountLabels
    payroll_checking: AccountLabels
    loan_type: str
    interest_rate_name: str
    salary: str
    rent: str
    bill: str
    purchase: str
    atm: str
    to_savings: str
    # A transfer to the user's own account at another bank.
    to_own_account: str
    from_checking: str
    card_payment: str
    card_payment_received: str
    card_interest: str
    loan_payment: str
    loan_instalment_received: str
    loan_instalment_observation: str
    loan_disbursement: str
    savings_interest: str
    client_payment: str
    supplier_payment: str
    payroll_payment: str
    payroll_funding_out: str
    payroll_funding_in: str
    tax_payment: str
    account_fee: str


TEXTS: Final[dict[str, CountryTexts]] = {
    "MX": CountryTexts(
        language="es",
        checking=AccountLabels("Cuentas de efectivo", "Cuenta {brand} Nómina - MXN-{suffix}"),
        savings=AccountLabels("Cuentas de ahorro", "Ahorro {brand} - MXN-{suffix}"),
        credit_card=AccountLabels("Tarjetas de crédito", "{brand} Oro"),
        loan=AccountLabels("Créditos", "Crédito de nómina"),
        business_checking=AccountLabels(
            "Cuentas empresariales", "Cuenta Empresarial {brand} - MXN-{suffix}"
        ),
        payroll_checking=AccountLabels(
            "Cuentas empresariales", "Dispersión de Nómina {brand} - MXN-{suffix}"
        ),
        loan_type="Crédito de nómina",
        interest_rate_name="Tasa de interés ordinaria",
        salary="PAGO DE NOMINA {employer}",
        rent="SPEI ENVIADO RENTA {landlord}",
        bill="DOMICILIACION {biller}",
        purchase="{merchant}",
        atm="RETIRO CAJERO AUTOMATICO {brand}",
        to_savings="TRASPASO A CUENTA DE AHORRO {number}",
        to_own_account="SPEI ENVIADO A CUENTA PROPIA",
        from_checking="TRASPASO DESDE CUENTA {number}",
        card_payment="PAGO TARJETA DE CREDITO {number}",
        card_payment_received="SU PAGO GRACIAS",
        card_interest="INTERESES POR FINANCIAMIENTO",
        loan_payment="PAGO CREDITO {contract}",
        loan_instalment_received="ABONO A CREDITO {contract}",
        loan_instalment_observation="Pago {number} de {total}",
        loan_disbursement="DEPOSITO CREDITO {contract}",
        savings_interest="INTERESES GANADOS",
        client_payment="SPEI RECIBIDO {partner}",
        supplier_payment="SPEI ENVIADO {partner}",
        payroll_payment="PAGO DE NOMINA {employee}",
        payroll_funding_out="TRASPASO A CUENTA DE NOMINA {number}",
        payroll_funding_in="TRASPASO DESDE CUENTA {number}",
        tax_payment="PAGO REFERENCIADO SAT {period}",
        account_fee="COMISION MANEJO DE CUENTA",
    ),
    "CO": CountryTexts(
        language="es",
        checking=AccountLabels("Cuenta Corriente", "Cuenta Corriente {brand} *{suffix}"),
        savings=AccountLabels("Cuenta de Ahorros", "Cuenta de Ahorros {brand} *{suffix}"),
        credit_card=AccountLabels("Tarjeta de Crédito", "{brand} Clásica"),
        loan=AccountLabels("Créditos", "Crédito de Libre Inversión"),
        business_checking=AccountLabels(
            "Cuenta Corriente Empresarial", "Cuenta Empresarial {brand} *{suffix}"
        ),
        payroll_checking=AccountLabels(
            "Cuenta Corriente Empresarial", "Cuenta Pago de Nómina {brand} *{suffix}"
        ),
        loan_type="Libre inversión",
        interest_rate_name="Tasa efectiva anual",
        salary="ABONO NOMINA {employer}",
        rent="TRANSFERENCIA ARRIENDO {landlord}",
        bill="PAGO PSE {biller}",
        purchase="{merchant}",
        atm="RETIRO CAJERO {brand}",
        to_savings="TRANSFERENCIA A CTA AHORROS {number}",
        to_own_account="TRANSFERENCIA A CUENTA PROPIA OTRO BANCO",
        from_checking="TRANSFERENCIA DESDE CTA {number}",
        card_payment="PAGO TARJETA CREDITO {number}",
        card_payment_received="ABONO PAGO RECIBIDO",
        card_interest="INTERESES CORRIENTES",
        loan_payment="PAGO CUOTA CREDITO {contract}",
        loan_instalment_received="ABONO CUOTA CREDITO {contract}",
        loan_instalment_observation="Cuota {number} de {total}",
        loan_disbursement="DESEMBOLSO CREDITO {contract}",
        savings_interest="ABONO INTERESES AHORROS",
        client_payment="TRANSFERENCIA RECIBIDA {partner}",
        supplier_payment="PAGO PROVEEDOR {partner}",
        payroll_payment="PAGO NOMINA {employee}",
        payroll_funding_out="TRASLADO A CTA NOMINA {number}",
        payroll_funding_in="TRASLADO DESDE CTA {number}",
        tax_payment="PAGO DIAN {period}",
        account_fee="CUOTA DE MANEJO",
    ),
    "BR": CountryTexts(
        language="pt",
        checking=AccountLabels("Conta corrente", "Conta Corrente {brand} {suffix}"),
        savings=AccountLabels("Conta poupança", "Poupança {brand} {suffix}"),
        credit_card=AccountLabels("Cartão de crédito", "{brand} Gold"),
        loan=AccountLabels("Empréstimos", "Empréstimo pessoal"),
        business_checking=AccountLabels("Conta corrente PJ", "Conta PJ {brand} {suffix}"),
        payroll_checking=AccountLabels(
            "Conta corrente PJ", "Conta Folha de Pagamento {brand} {suffix}"
        ),
        loan_type="Crédito pessoal",
        interest_rate_name="Taxa de juros efetiva",
        salary="CRED SALARIO {employer}",
        rent="PIX ENVIADO ALUGUEL {landlord}",
        bill="DEBITO AUTOMATICO {biller}",
        purchase="{merchant}",
        atm="SAQUE 24H {brand}",
        to_savings="TRANSF PARA POUPANCA {number}",
        to_own_account="PIX ENVIADO CONTA PROPRIA",
        from_checking="TRANSF DA CONTA {number}",
        card_payment="PAGAMENTO FATURA CARTAO {number}",
        card_payment_received="PAGAMENTO RECEBIDO",
        card_interest="JUROS ROTATIVO",
        loan_payment="PAGAMENTO PARCELA EMPRESTIMO {contract}",
        loan_instalment_received="PARCELA RECEBIDA {contract}",
        loan_instalment_observation="Parcela {number} de {total}",
        loan_disbursement="CREDITO EMPRESTIMO {contract}",
        savings_interest="RENDIMENTO POUPANCA",
        client_payment="PIX RECEBIDO {partner}",
        supplier_payment="PIX ENVIADO {partner}",
        payroll_payment="PAGAMENTO SALARIO {employee}",
        payroll_funding_out="TRANSF PARA CONTA FOLHA {number}",
        payroll_funding_in="TRANSF DA CONTA {number}",
        tax_payment="DARF RECEITA FEDERAL {period}",
        account_fee="TARIFA PACOTE DE SERVICOS",
    ),
}


def statement_text(template: str, **values: str) -> str:
    """Fill `template` and write it upper case without accents, as bank statements do."""
    return _statement_style(template.format(**values))


@functools.lru_cache(maxsize=4096)
def _statement_style(text: str) -> str:
    return " ".join(normalize_name(text).split())
