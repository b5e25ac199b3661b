"""ui.text.plain: strings from charge points stay text in Streamlit Markdown.

Markdown is parsed here with markdown-it-py (CommonMark, the parser family Streamlit's
react-markdown follows) to check that no markup survives; the real browser test
(tests/system/ui/test_browser.py) checks what Streamlit itself renders.
"""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from chargestream.ui.text import REPLACEMENT, WORD_JOINER, plain, visible

HOSTILE = [
    "![x](http://127.0.0.1:1/)",
    "<img src=x onerror=alert(1)>",
    "[link](javascript:alert(1))",
    "`code` and ``` fences",
    ":red[red] :material/home: :streamlit: :smile:",
    "$x^2$ and $$y$$",
    "**bold** _italic_ ~~struck~~",
    "| a | b |",
    "a&amp;b &#65; &lt;",
    "<http://127.0.0.1:1/auto> <a@b.c>",
    "[x]: http://127.0.0.1:1/reference",
    "\\*not bold\\*",
    "{#id .class}",
]


def rendered(markdown: str) -> str:
    """CommonMark + tables + strikethrough, as HTML."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown)


def text_of(html: str) -> str:
    """The visible text of rendered HTML (tags dropped, the entities we expect decoded)."""
    text = re.sub(r"<[^>]+>", "", html)
    for entity, character in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&amp;", "&")):
        text = text.replace(entity, character)
    return visible(text).strip()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_markup_is_shown_as_its_characters(hostile: str) -> None:
    html = rendered(plain(hostile))
    assert html.startswith("<p>") and html.count("<") == 2, html  # one paragraph, no markup
    assert text_of(html) == hostile


@pytest.mark.parametrize(
    "line",
    ["# heading", "- item", "+ item", "1. one", "12) twelve", "> quote", "---", "===", "    code"],
)
def test_nothing_starts_a_block_at_the_start_of_a_line(line: str) -> None:
    for markdown in (plain(line), "Info\n" + plain(line)):
        html = rendered(markdown)
        assert not re.search(r"<(h\d|ul|ol|li|blockquote|hr|pre|code)", html), html
    assert text_of(rendered(plain(line))) == line.strip()


def test_newlines_and_control_characters_become_spaces() -> None:
    assert plain("line1\nline2\r\n# heading") == "line1 line2  \\# heading"
    assert plain("a\tb\x00c\x1bd\u2028e\x85f") == "a b c d e f"
    assert "<h1>" not in rendered(plain("title\n# not a heading"))


def test_bidirectional_overrides_are_made_visible() -> None:
    assert plain("CP\u202e1-PC") == f"CP{REPLACEMENT}1-PC"
    assert plain("\u2066a\u2069\u200f") == REPLACEMENT + "a" + REPLACEMENT * 2


def test_patterns_rewritten_after_parsing_are_broken_by_an_invisible_joiner() -> None:
    # Streamlit and GFM rewrite these in the text after parsing: links, icons, arrows
    for hostile, broken in (
        ("http://h/", "http\\:" + WORD_JOINER + "//h/"),
        ("www.example.com", "www" + WORD_JOINER + ".example.com"),
        ("WWW.example.com", "WWW" + WORD_JOINER + ".example.com"),
        ("op@example.com", "op" + WORD_JOINER + "@example.com"),
        (":material/home:", "\\:" + WORD_JOINER + "material/home\\:" + WORD_JOINER),
        ("a -> b", "a -" + WORD_JOINER + "\\> b"),
        ("a <= b", "a \\<" + WORD_JOINER + "= b"),
        ("a -- b", "a -" + WORD_JOINER + "- b"),
    ):
        assert plain(hostile) == broken
        assert visible(text_of(rendered(plain(hostile)))) == hostile


def test_ordinary_ids_and_versions_are_unchanged() -> None:
    for ordinary in ("CP-LIVE", "DEPOT-A-01", "1.8.3", "Terra 54", "04A2B3C4", "-5", "a-b"):
        assert plain(ordinary) == ordinary
    assert plain(None) == ""
    assert plain(42) == "42"


def test_plain_text_inside_our_own_markdown_stays_inside() -> None:
    status = "Accepted** and **[x](http://127.0.0.1:1/)"
    html = rendered(f"CP-1 answered Reset: **{plain(status)}**")
    assert html.count("<strong>") == 1 and "<a" not in html
    assert text_of(html) == f"CP-1 answered Reset: {status}"
