"""ONVIF: the engine's camera client (discovery, probe, events) and a camera simulator."""
