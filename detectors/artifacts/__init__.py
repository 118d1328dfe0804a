"""Verified files from package registries: the records, the fetch layer and the samples.

Models (``detectors.zoo``) and sample media (:mod:`detectors.artifacts.samples`) share one
discipline: a named file, a recorded SHA-256, a registry package it comes from, a local
mirror checked first, and one cache root (:func:`~detectors.artifacts.files.cache_root`).
"""
