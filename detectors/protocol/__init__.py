"""The engine's wire contract: every message, answer and code that leaves the engine.

Home Assistant, MQTT subscribers and users' scripts depend on these shapes, so they have
one owner. Modules:

* :mod:`.codes`: every code and enum that crosses the boundary (rules, response modes,
  change kinds, camera offline codes, API error codes). Codes, never prose: clients act on
  codes and show the engine's words only to people.
* :mod:`.schema`: the field tables (:class:`~.schema.Shape`) that build JSON and describe it.
* :mod:`.events`, :mod:`.cameras`, :mod:`.engine`, :mod:`.onvif`: the shapes of alerts,
  cameras, the engine itself and ONVIF answers.
* :mod:`.messages`: the WebSocket (and MQTT bridge) envelopes, each with its cursor.
* :mod:`.requests`: the request bodies the API accepts.
* :mod:`.errors`: which failure answers which status and error code.
* :mod:`.openapi`: the OpenAPI document, generated from all of the above.

This package imports domain modules (the incident log's records, the configuration) and
never the engine service, so the service and the API can both build on it. Nothing is
imported here eagerly: the configuration validators use :mod:`.schema` while the shapes
use the configuration.
"""
