"""The PACS integration tests run against a real Orthanc (tests/orthanc.py)."""

from tests.orthanc import orthanc

__all__ = ["orthanc"]
