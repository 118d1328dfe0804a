"""Tests of the school_guard Home Assistant integration against a real engine."""
