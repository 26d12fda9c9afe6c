"""Behaviour every HealthProbe must share."""

from __future__ import annotations

from application.ports import HealthProbe


class HealthProbeContract:
    """Needs a fixture ``health_probe`` over a reachable database migrated to head."""

    def test_is_a_health_probe(self, health_probe: HealthProbe) -> None:
        assert isinstance(health_probe, HealthProbe)

    async def test_reports_a_migrated_database_ready(self, health_probe: HealthProbe) -> None:
        report = await health_probe.check()
        assert report.at_head is True
        assert report.migrations == "head"
        assert report.revision == report.head
        assert report.backend
