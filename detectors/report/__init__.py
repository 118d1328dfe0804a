"""The after-action report: every incident and drill as a timeline, with response times.

``school-guard report`` reads the incident log read-only (:mod:`.source`), orders each
alert's record into a timeline (:mod:`.timeline`), counts and times them (:mod:`.numbers`),
draws the charts (:mod:`.charts`) and writes JSON, HTML or PDF (:mod:`.render`,
:mod:`.pdf`). Drills and real incidents are counted apart everywhere; no number mixes
them. What the report holds is what the log holds: it follows the log's retention, and
its only images are the evidence snapshots the log kept (docs/privacy.md).
"""
