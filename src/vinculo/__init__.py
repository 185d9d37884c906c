"""Vínculo: a self-hosted open-finance link server that speaks the Belvo aggregation API."""

__version__ = "0.1.0"
