"""Neutral chat text: invisible and bidi characters removed, data kept apart from the bot's mentions."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.text import ChannelLink, Mention, Text, as_text, visible

# The spoofing characters of the finding: overrides, isolates, marks, zero-width ones, the BOM.
SPOOFERS = [
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u2066",  # LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",
    "\u200b",  # ZERO WIDTH SPACE
    "\u200c",
    "\u200d",
    "\u2060",  # WORD JOINER
    "\ufeff",  # BOM / ZERO WIDTH NO-BREAK SPACE
    "\u00ad",  # SOFT HYPHEN
    "\u3164",  # HANGUL FILLER (a letter that draws nothing)
    "\U000e0041",  # TAG LATIN CAPITAL LETTER A
    "\x1b",  # ESC (a control character)
]


@pytest.mark.parametrize("char", SPOOFERS, ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_and_bidi_characters_are_removed(char):
    assert visible(f"invoice{char}fdp.exe") == "invoicefdp.exe"


def test_rlo_filename_trick_is_defused():
    # "‮gnp.exe" renders as "exe.png": without the override the real extension shows.
    assert visible("report\u202egnp.exe\u200b") == "reportgnp.exe"


def test_visible_text_is_unchanged():
    text = "Checkout — p99 at 8s\n\tcafé 日本語 👩‍💻?"
    assert visible(text) == text.replace("\u200d", "")  # the joiner inside the emoji goes; the rest stays


def test_line_separators_become_newlines():
    assert visible("a\u2028b\u2029c") == "a\nb\nc"


@given(st.text())
def test_visible_leaves_no_format_or_control_character(text):
    out = visible(text)
    assert not [c for c in out if unicodedata.category(c) in ("Cf", "Cc", "Cs") and c not in "\n\t"]
    assert visible(out) == out  # idempotent


@given(st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"])))
def test_printable_ascii_passes_untouched(text):
    assert visible(text) == text


def test_text_keeps_data_and_mentions_apart():
    t = Text.of("made ", Mention("U0BOB"), " commander; see ", ChannelLink("C0ROOM"), Text.of(" ", "<!channel>"))
    assert t.parts == ("made ", Mention("U0BOB"), " commander; see ", ChannelLink("C0ROOM"), " ", "<!channel>")
    assert t.data() == "made  commander; see  <!channel>"
    assert t.map_data(str.upper).parts[1] == Mention("U0BOB")
    assert (t + "!").parts[-1] == "!" and ("> " + t).parts[0] == "> "
    assert Text.join(", ", [Mention("U1X"), "b"]).parts == (Mention("U1X"), ", ", "b")
    assert as_text("plain").parts == ("plain",)


@pytest.mark.parametrize(
    ("mention", "valid"),
    [
        (Mention("U0BOB"), True),
        (Mention("W012ABC"), True),
        (Mention("alertmanager"), False),
        (Mention("!channel"), False),
    ],
)
def test_only_user_ids_are_mentions(mention, valid):
    assert mention.valid is valid


@pytest.mark.parametrize(("link", "valid"), [(ChannelLink("C0ROOM"), True), (ChannelLink("!here"), False)])
def test_only_channel_ids_are_links(link, valid):
    assert link.valid is valid
