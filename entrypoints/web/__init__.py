"""Clinician web UI (NiceGUI): a thin entrypoint over the same use cases as the HTTP API."""
