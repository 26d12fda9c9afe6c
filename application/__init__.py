"""Breastscan application layer: use cases and the ports they drive."""
