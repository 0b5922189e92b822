"""Conversation evaluation harness: scripted or persona callers, scored claims, actions and costs.

python -m local.evals                      # every conversation, against the configured model
python -m local.evals --only en-car-accident --out evals-out
"""
