"""The sandbox control API under `/sandbox/`: reset data, move the clock, force states."""
