"""The post-mortem in Markdown: data escaped (a title or a note cannot make a link, an image, HTML, a heading or
a table row), the built-in template's sections, an overriding template from a file, and clear errors for a
template that cannot work (missing, invalid, unsafe in the sandbox, failing on the draft)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from bot.domain.text import Mention, Strong, Text
from integrations.postmortem_markdown import MarkdownPostmortem, TemplateProblem
from integrations.postmortem_markdown.markdown import block, inline, render
from integrations.postmortem_markdown.render import code, sample_doc

HOSTILE = "[click](http://evil.example) ![img](http://evil.example/x.png) <img src=x onerror=alert(1)> &amp; `x` | a | *b* _c_ ~~d~~"


def live(markup: str, text: str) -> bool:
    """Whether `markup` occurs in `text` with its first character not backslash-escaped."""
    return re.search(r"(?<!\\)" + re.escape(markup), text) is not None


def test_inline_data_makes_no_markup():
    out = inline(HOSTILE + "\n# heading\n- item")
    assert "\n" not in out
    for raw in ("[click]", "](", "![", "<img", "&amp;", "`x`", "| a |", "*b*", "_c_", "~~d~~"):
        assert not live(raw, out), raw
    assert out.count("\\[") == 2 and "\\<img" in out and "\\&amp;" in out


def test_a_line_cannot_start_a_block():
    for data, escaped in (("# h", "\\# h"), ("> q", "\\> q"), ("- x", "\\- x"), ("1. x", "1\\. x"), ("---", "\\---")):
        assert inline(data) == escaped
        assert block(f"ok\n{data}") == f"ok\n{escaped}"
    assert inline("0.12") == "0.12" and inline("a - b") == "a - b"


def test_text_parts_render_with_mentions_and_bold():
    text = Text.of("Note from ", Mention("U0ALICE"), ": ", Strong("*big*"), " <!channel>")
    assert render(text) == "Note from @U0ALICE: **\\*big\\*** \\<\\!channel\\>"


def test_queries_are_code_spans_that_backticks_cannot_close():
    assert code('rate(x{a="b"}[5m])') == '`rate(x{a="b"}[5m])`'
    assert code("a `b` c") == "``a `b` c``"
    assert code("`edge`") == "`` `edge` ``"


def test_the_default_template_has_every_section_and_escapes_the_draft():
    doc = dataclasses.replace(sample_doc(), title=HOSTILE, summary="line one\n# not a heading")
    text = MarkdownPostmortem().render(doc)
    for heading in ("Summary", "Impact", "Metrics", "Timeline", "Root cause and evidence", "Actions taken",
                    "Five whys", "Action items", "What went well", "What went poorly", "Where we got lucky"):  # fmt: skip
        assert f"\n## {heading}\n" in text, heading
    assert not live("<img", text) and not live("](http", text) and not live("[click]", text)
    assert "\n\\# not a heading" in text
    assert re.search(r"\| Add a canary \| @U0BOB \| 2026-01-15 \|", text)
    for name in ("MTTD", "MTTA", "MTTI", "MTTR"):
        assert re.search(rf"^\| {name} \| ", text, re.M), name


def test_a_template_from_a_file_overrides_the_default(tmp_path):
    path = tmp_path / "pm.md.j2"
    path.write_text(
        "# {{ ref }} v{{ version }}\n{% for f in figures %}{{ f.name }}={{ f.value }};{% endfor %}\n\n{{ title }}\n"
    )
    doc = dataclasses.replace(sample_doc(), title="*bold* [x](y)")
    assert MarkdownPostmortem(path, sample=sample_doc()).render(doc) == (
        "# INC-20260101-001 v1\nMTTD=n/a;MTTA=0s;MTTI=n/a;MTTR=0s;\n\\*bold\\* \\[x\\](y)\n"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{% for x in %}", r"line 1: Expected an expression"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", r"unsafe|access to attribute"),
        ("{{ no_such_value }}", r"'no_such_value' is undefined"),
        (b"\xff\xfe", r"not UTF-8"),
    ],
)
def test_a_bad_template_is_refused_when_it_is_loaded(tmp_path, body, problem):
    path = tmp_path / "pm.md.j2"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    with pytest.raises(TemplateProblem, match=problem) as err:
        MarkdownPostmortem(path, sample=sample_doc())
    assert str(path) in str(err.value)


def test_a_missing_template_is_named(tmp_path):
    with pytest.raises(TemplateProblem, match="file not found"):
        MarkdownPostmortem(tmp_path / "nope.j2")


def test_the_rules_file_names_a_template_relative_to_itself(tmp_path):
    from bot.bootstrap.outbound import postmortem_renderer
    from bot.config import load_config

    (tmp_path / "pm.md.j2").write_text("{{ ref }}: {{ title }}\n")
    (tmp_path / "warroom.yml").write_text("postmortem:\n  template: pm.md.j2\n")
    renderer = postmortem_renderer(load_config(tmp_path / "warroom.yml"))
    assert renderer.render(sample_doc()) == "INC-20260101-001: Checkout errors\n"
    (tmp_path / "pm.md.j2").write_text("{{ ref }\n")
    with pytest.raises(ValueError, match=r"pm\.md\.j2 line 1"):
        postmortem_renderer(load_config(tmp_path / "warroom.yml"))
    assert "Five whys" in postmortem_renderer(load_config(None)).render(sample_doc())
