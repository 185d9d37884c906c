"""Sandbox tools that work on a whole database: seeding it with generated links and data."""
