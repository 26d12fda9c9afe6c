"""The PACS integration tests run against a real Orthanc (tests/orthanc.py)."""

from tests.orthanc import orthanc, orthanc_with_login

__all__ = ["orthanc", "orthanc_with_login"]
