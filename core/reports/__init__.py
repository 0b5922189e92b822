"""Server-rendered HTML reports of calls (Jinja2, autoescaped, self-contained, phone-friendly)."""
