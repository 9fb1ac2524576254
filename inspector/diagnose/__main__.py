from .table import rules_markdown

print(rules_markdown(), end="")
