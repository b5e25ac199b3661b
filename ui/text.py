"""Strings from outside (charge points, operators, the API) as literal text in Streamlit Markdown.

Most Streamlit elements render their text as GitHub-flavoured Markdown with Streamlit's
own additions: ``st.markdown``, ``st.caption``, the alert boxes, ``st.subheader``, metric
labels and values, button labels, ``st.table`` cells. A charge point chooses its id,
vendor, model, firmware, status info, error codes and action names, so shown as they are
they could draw an image from any address (``![x](http://…)``, fetched by the operator's
browser), links, headings, colours (``:red[…]``), icons (``:material/…:``) or formulas
(``$…$``). ``plain`` turns such a string into Markdown that shows exactly its characters:

- every ASCII character with a Markdown or HTML meaning is backslash-escaped (``* _ ` [ ]
  ( ) < > ! | ~ $ : & # { } ^ \\``, and ``- + = .`` ``)`` at the start where they would
  begin a list, heading or rule, leading spaces as ``&#32;``), so no emphasis, link,
  image, code block, HTML, entity, table, directive or formula is parsed;
- a WORD JOINER (U+2060, invisible and zero-width) follows every ``:``, precedes every
  ``@``, follows ``www`` before a dot and separates ``-<>=~`` pairs: Streamlit and GFM
  rewrite some patterns in the text *after* parsing (autolinked ``http://…``, ``www.…``
  and e-mail addresses, ``:material/icon:`` and ``:streamlit:``, ``->`` and ``>=`` as
  arrows), which escapes cannot stop;
- line breaks and other control characters become spaces, bidirectional-override
  characters (which could show an id reversed) become U+FFFD.

The result is meant for the Markdown of one line: a whole element, or interpolated into
our own Markdown (``f"**{plain(cp_id)}** answered"``). Where no Markdown is needed at all,
``st.text``, ``st.code`` and ``st.dataframe`` show strings as they are. No Streamlit import
here: the helpers are pure and unit-tested.
"""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
REPLACEMENT = "\ufffd"

# characters escaped wherever they are
_ALWAYS = re.compile(r"([\\`*_\[\]()<>!|~$:&#{}^])")
# control characters and line separators (tab included): shown as one space each
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# bidirectional embeddings, overrides and isolates, and the implicit marks
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# at the start of a line: bullets, headings, rules, ordered lists, indented code
_LEADING_MARK = re.compile(r"^([ ]*)([-+=])(?=[-+= \t]|$)")
_LEADING_NUMBER = re.compile(r"^([ ]*\d{1,9})([.)])(?=[ \t]|$)")
_LEADING_SPACES = re.compile(r"^[ ]+")
# patterns rewritten after parsing (see the module docstring)
_AFTER_COLON = re.compile(r"(\\:)")
_BEFORE_AT = re.compile(r"@")
_WWW_DOT = re.compile(r"(?i)(?<=www)\.")
_ARROW_PAIR = re.compile(r"(?<=[-<>=~])(?=\\?[-<>=~])")


def plain(value: object) -> str:
    """``value`` as Markdown that Streamlit shows as exactly these characters (one line)."""
    text = "" if value is None else str(value)
    text = _CONTROL.sub(" ", text)
    text = _BIDI.sub(REPLACEMENT, text)
    text = _ALWAYS.sub(r"\\\1", text)
    text = _LEADING_MARK.sub(r"\1\\\2", text)
    text = _LEADING_NUMBER.sub(r"\1\\\2", text)
    text = _LEADING_SPACES.sub(lambda spaces: "&#32;" * len(spaces.group()), text)
    text = _AFTER_COLON.sub(r"\1" + WORD_JOINER, text)
    text = _BEFORE_AT.sub(WORD_JOINER + "@", text)
    text = _WWW_DOT.sub(WORD_JOINER + ".", text)
    return _ARROW_PAIR.sub(WORD_JOINER, text)


def visible(markdown_text: str) -> str:
    """What ``plain``'s output reads as, joiners removed (for comparisons in tests)."""
    return markdown_text.replace(WORD_JOINER, "")
