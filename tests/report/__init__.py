"""Tests of connector.report: working-hours arithmetic, the handoff SLA."""
