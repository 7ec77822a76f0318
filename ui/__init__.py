"""The web UI, one module per area of the page; ``app.py`` assembles them.

Each area lays out its own components and wires its own events; its handlers return the
components they change, by name (:data:`ui.events.Updates`). Everything shown is built by
:mod:`ui.present` and every file written goes through :mod:`rag.ingest.uploads`. Nothing in
:mod:`rag` imports this package (the library does not depend on Gradio).

* :mod:`ui.collections` - the collection picker and "Create collection"
* :mod:`ui.chat` - the conversation, the question box, "Search only in", "New chat"
* :mod:`ui.sources` - the Sources panel beside the chat and the document viewer
* :mod:`ui.history` - the History panel (saved conversations) and its notice
* :mod:`ui.documents` - the Documents tab (list, uploads, delete, re-ingest)
* :mod:`ui.settings` - the Settings tab
* :mod:`ui.api` - the scripting API (``/ask``, ``/chat``, ``/history``, ``/conversation``)
* :mod:`ui.backend` - what the areas share: collections, histories, the chat session
* :mod:`ui.events` - event options and the handlers' return type
* :mod:`ui.present` and :mod:`ui.assets` - the HTML and the panels' scripts and styles
* :mod:`ui.listings` - the Documents and History lists as rows
* :mod:`ui.launch` - how the app is served
"""
