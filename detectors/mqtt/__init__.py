"""MQTT output of the engine: retained states, alerts and snapshots for any subscriber.

The engine publishes to one broker (Mosquitto, or a clustered broker for a district) so
PA systems, door controllers and other sites can react without talking to the engine API.
Topics live under ``<topic_root>/<engine_id>/`` (see ``docs/mqtt.md`` for the contract).

The engine only publishes. It never subscribes to a topic and never acts on a message it
receives: MQTT has no per-message authentication, so anyone allowed to publish on the
broker could otherwise lock doors or silence an alert. Command topics stay out of scope
until authenticated commands exist; control goes through the engine API, which needs a
bearer token.
"""

from detectors.mqtt.payloads import camera_state_payload, sanitise_payload
from detectors.mqtt.publisher import MqttPublisher
from detectors.mqtt.topics import EngineTopics

__all__ = ["EngineTopics", "MqttPublisher", "camera_state_payload", "sanitise_payload"]
