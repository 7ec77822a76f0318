"""How the page's events run, and the shape of what their handlers return.

Every area wires its events with these options, so a rule such as "the page's own events are
not callable by API clients" or "every way of asking shares one concurrency slot" is written
once. Handlers return :data:`Updates`: the components they change, by name, each with its new
value or ``gr.update``; a component left out is left as it is.
"""

from typing import Any

import gradio as gr
from gradio.blocks import Block

#: What a handler changes on the page: component -> new value (or a ``gr.update``/component).
Updates = dict[Block, Any]

#: The page's own events: not callable by API clients (only the documented endpoints are).
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
#: Bookkeeping steps (copying pickers, refreshing lists): private, and no spinner.
QUIET: dict[str, Any] = {"show_progress": "hidden", **PRIVATE}
#: Every way of asking (the chat, ``/ask``, ``/chat``) shares one limit, the queue's
#: ``default_concurrency_limit``: a limit applies per event unless events share an id.
ANSWERING: dict[str, Any] = {"concurrency_id": "answer"}
#: Ingests (upload, delete, re-ingest) run one at a time.
ONE_INGEST: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "ingest"}


def unchanged() -> Any:
    """A handler's answer when nothing on the page changes.

    Not an empty :data:`Updates`: Gradio reads ``{}`` as one value, while a single
    ``gr.skip()`` leaves every output of the event as it is.
    """
    return gr.skip()
