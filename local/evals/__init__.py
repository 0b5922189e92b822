"""Conversation evaluation harness: scripted or persona callers, scored claims, actions and costs.

python -m local.evals                             # every conversation, scripted LLM (offline)
python -m local.evals --real --only en-car-accident   # the model of LLM__PRIMARY__*
"""
