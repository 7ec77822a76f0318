"""The generative answerer: LLM backends, prompts, and the answerer that checks their output.

:class:`GenerativeAnswerer` has a chat model write the answer from the retrieved passages and
lets the citation checker decide what it is worth (falling back to the extractive answer);
:func:`parse_backend` and :func:`make_chat_model` turn the one ``RAG_LLM`` setting into a
LangChain chat model, and every prompt sent to a model lives in :mod:`rag.generate.prompts`.
"""

from rag import _front_door

__getattr__, __dir__, __all__ = _front_door(
    __name__,
    {
        "answerer": ("GenerativeAnswerer",),
        "backends": (
            "BackendSpec",
            "backend_errors",
            "find_packaged_gguf",
            "make_chat_model",
            "parse_backend",
        ),
        "prompts": ("rewrite_messages",),
    },
)
