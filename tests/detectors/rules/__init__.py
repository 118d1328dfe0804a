"""Tests of the tracker, geometry, schedules, rules and confirmation."""
