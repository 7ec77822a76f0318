"""Benchmarks (not tests): ours against the LangChain RAG-tutorial pipeline, in one run.

``python -m bench`` (or ``make bench``) runs every phase and prints ratios ours / baseline;
each phase writes JSON under ``bench/results/``. See ``python -m bench --help``.
"""
