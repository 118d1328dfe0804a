"""The incident log, split by concern.

* :mod:`.records`: the record types and the one field table behind every stored form;
* :mod:`.schema`: the SQLite layout, pragmas and migrations (derived from the table);
* :mod:`.database`: owning the file (one process at a time) and transactions;
* :mod:`.changes`: the alert state machine, each change's checks and writes;
* :mod:`.log`: the log itself, synchronous and thread-safe;
* :mod:`.aio`: the same calls for asyncio code, off the event loop;
* :mod:`.retention`: purge and export queries (the export document is
  ``detectors.protocol.export``, since it carries the API's event shape).

Nothing is imported here eagerly, so the wire shapes can use the records without loading
the rest.
"""
