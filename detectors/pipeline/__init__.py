"""Frame pipeline: ingest, motion gate, frame quality and tracking."""
