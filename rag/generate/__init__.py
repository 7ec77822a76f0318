"""The generative answerer: LLM backends, prompts, and the answerer that checks their output."""
