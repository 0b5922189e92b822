"""The scripted LLM: an OpenAI-compatible server answering by rules (see rules.py and README.md)."""

from local.scripted_llm.rules import Answer, Rule, load_rules, load_rules_file
from local.scripted_llm.server import Fault, RecordedRequest, ScriptedLlm

__all__ = ["Answer", "Fault", "RecordedRequest", "Rule", "ScriptedLlm", "load_rules", "load_rules_file"]
