"""Post-call insights: syntheses, satisfaction, improvement suggestions and the next action, computed by
the model as structured output once a call has ended (queue-triggered, idempotent)."""
