"""The post-mortem as Markdown: a Jinja2 template (the built-in `default.md.j2`, or one named in warroom.yml
`postmortem.template`) rendered in a sandbox from a context whose every data string is already escaped.

- `markdown.py`: escaping data for Markdown, and neutral Text -> Markdown.
- `render.py`: the template context and the sandboxed environment (`MarkdownPostmortem`).
"""

from integrations.postmortem_markdown.render import DEFAULT_TEMPLATE, MarkdownPostmortem, TemplateProblem

__all__ = ["DEFAULT_TEMPLATE", "MarkdownPostmortem", "TemplateProblem"]
