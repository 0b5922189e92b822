"""Entry points: thin triggers that parse, authenticate, call core and map the result."""
