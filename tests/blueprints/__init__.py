"""Tests of the school_guard response playbooks (blueprints)."""
