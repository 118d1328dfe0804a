"""The engine service: cameras, models, incident log and the engine API in one process."""
