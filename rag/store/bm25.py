"""The keyword half of the index: BM25 (bm25s) over the same chunks as the vector store.

Dense retrieval misses rare names and numbers that BM25 finds at once, and the other way round
for paraphrases; the retriever fuses both. The index is rebuilt from all chunk texts at each
ingest (seconds even for tens of thousands of chunks), which keeps it trivially in sync with
the vector store. Its document frequencies double as IDF weights for the answerer.

Words, stems and stop words come from :mod:`rag.text.words`, shared with lexical overlap; this
module only indexes and searches.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexDamagedError
from rag.text.words import QUESTION_WORDS, STOP_WORDS, WORD, stemmer, words

# Parameters tuned for passages (Anserini's defaults for MS MARCO-style passages).
#: BM25's term-frequency saturation: how soon another occurrence of a word stops counting.
K1 = 0.9
#: BM25's length normalisation: how much a long chunk is discounted.
B = 0.4


def _bm25s() -> Any:
    import bm25s

    # bm25s sets its own logger to DEBUG on import; let the application's logging decide.
    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


def _tokenizer() -> Any:
    """bm25s' tokenizer with the app's words, stems and stop words.

    The stop words are not saved with an index: a loaded index gets today's
    :data:`~rag.text.words.STOP_WORDS`, so a change to that list (or to the words or stems)
    must also change the chunking id the manifest records (``rag.ingest.pipeline``), which rebuilds
    existing indexes.
    """
    from bm25s.tokenization import Tokenizer

    return Tokenizer(stemmer=stemmer(), stopwords=sorted(STOP_WORDS), splitter=WORD.findall)


class KeywordIndex:
    """BM25 over chunk texts; positions refer to the order the texts were indexed in."""

    def __init__(self, retriever: Any, tokenizer: Any) -> None:
        self._retriever = retriever
        self._tokenizer = tokenizer

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = K1, b: float = B) -> KeywordIndex:
        bm25s = _bm25s()

        tokenizer = _tokenizer()
        tokens = tokenizer.tokenize(
            list(texts), update_vocab=True, return_as="tuple", show_progress=False
        )
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index(tokens, show_progress=False)
        return cls(retriever, tokenizer)

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        bm25s = _bm25s()

        try:
            retriever = bm25s.BM25.load(str(path), mmap=True)
            tokenizer = _tokenizer()
            tokenizer.load_vocab(str(path))
        except Exception as exc:
            raise IndexDamagedError(
                f"index is damaged: the keyword index in {path} cannot be read "
                f"({type(exc).__name__}); run `rag ingest --rebuild`"
            ) from exc
        return cls(retriever, tokenizer)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(path))
        self._tokenizer.save_vocab(str(path))

    @property
    def size(self) -> int:
        return int(self._retriever.scores["num_docs"])

    def token_ids(self, text: str) -> list[int]:
        """Stemmed, stop-worded vocabulary ids of ``text`` (unknown words are dropped)."""
        ids = self._tokenizer.tokenize(
            [text], update_vocab=False, return_as="ids", show_progress=False
        )[0]
        return [i for i in ids if i != self._empty_id]

    def query_token_ids(self, query: str, *, drop_question_words: bool = True) -> list[int]:
        """Token ids of a search query, without question words (unless nothing else is left)."""
        if not drop_question_words:
            return self.token_ids(query)
        content = " ".join(w for w in words(query) if w not in QUESTION_WORDS)
        return self.token_ids(content) or self.token_ids(query)

    @cached_property
    def _empty_id(self) -> int:
        return int(self._tokenizer.get_vocab_dict().get("", -1))

    def search(
        self,
        query: str,
        k: int,
        *,
        drop_question_words: bool = True,
        mask: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        """Top ``k`` positions with a positive BM25 score, best first.

        ``mask`` (one weight per position, 0 or 1) restricts the search to some documents:
        bm25s multiplies the scores by it before taking the top ``k``, so a masked-out
        position scores 0 and is never returned.
        """
        ids = self.query_token_ids(query, drop_question_words=drop_question_words)
        if not ids or self.size == 0:
            return []
        docs, scores = self._retriever.retrieve(
            [ids], k=min(k, self.size), show_progress=False, n_threads=1, weight_mask=mask
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def scores(
        self, query: str, *, drop_question_words: bool = True, mask: np.ndarray | None = None
    ) -> np.ndarray:
        """BM25 score of every position for ``query`` (zeros when no query word is known).

        The fused retriever uses it to score the dense retriever's candidates that BM25 did
        not rank, instead of guessing their score. ``mask`` zeroes the positions outside a
        source filter, as in :meth:`search`.
        """
        ids = self.query_token_ids(query, drop_question_words=drop_question_words)
        if not ids or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        scores = self._retriever.get_scores_from_ids(ids, weight_mask=mask)
        return np.asarray(scores, dtype=np.float32)

    @cached_property
    def _df(self) -> np.ndarray:
        return np.diff(np.asarray(self._retriever.scores["indptr"]))

    @cached_property
    def _vocab(self) -> dict[str, int]:
        return dict(self._tokenizer.get_vocab_dict())

    def idf(self, term: str) -> float:
        """Lucene IDF of a stemmed term.

        A term the corpus never uses counts as the rarest term it does use (df=1), so one
        paraphrased word cannot outweigh all the others.
        """
        n = self.size
        token_id = self._vocab.get(term, -1)
        df = int(self._df[token_id]) if 0 <= token_id < len(self._df) else 0
        df = max(df, 1)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
