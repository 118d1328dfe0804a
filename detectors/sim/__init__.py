"""Simulated cameras for the demo, the tests and the benchmarks, never the product's path.

An ONVIF camera (`camera.py`: its state, HTTP server and WS-Discovery; `soap_service.py`:
its device, media, events and PullPoint operations), the PullPoint event source
(`pullpoint.py`), looped footage as MJPEG (`looped_video.py`), footage encoded once to
H.264/H.265 (`media.py`), and GStreamer's RTSP server run as a helper process on Debian's
python3 (`rtsp_server.py`, `gst_rtsp_helper.py`). They live apart from `detectors/onvif/`,
the client the engine uses against real cameras, so that nothing in the engine's path can
depend on the simulator's behaviour.
"""
