"""Tests of the Home Assistant integrations."""
