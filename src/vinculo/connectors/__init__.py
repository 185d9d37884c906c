"""Institution connectors: the interface and the sandbox implementation."""
