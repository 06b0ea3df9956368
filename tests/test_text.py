from __future__ import annotations

from democrata_core.text import (
    html_to_paragraphs,
    normalise_whitespace,
    pascal_slug,
    slugify,
    split_paragraphs,
)


def test_normalise_whitespace_collapses_all_kinds():
    assert normalise_whitespace("  a\r\n\tb\u00a0\u00a0c \u200bd\n") == "a b c d"
    assert normalise_whitespace("co\u00adop\u200beration") == "cooperation"
    assert normalise_whitespace("") == ""


def test_split_paragraphs_on_blank_lines_only():
    text = "First line\r\nsame paragraph\r\n\r\nSecond\n \n\n\nThird"
    assert split_paragraphs(text) == ["First line same paragraph", "Second", "Third"]


def test_hansard_fragment_inline_markup_is_flattened():
    value = "<em>Motion made, and Question proposed, </em>That this House do now adjourn.<em>\u2014(Stephen Morgan.)</em>"
    assert html_to_paragraphs(value) == [
        "Motion made, and Question proposed, That this House do now adjourn.\u2014(Stephen Morgan.)"
    ]


def test_blank_lines_in_fragment_split_paragraphs():
    assert html_to_paragraphs("One.\r\n\r\nTwo <b>bold</b>.\r\n\r\n[P003166]") == [
        "One.",
        "Two bold.",
        "[P003166]",
    ]


def test_empty_markup_gives_no_paragraphs():
    assert html_to_paragraphs('<span class="column-number" data-column-number="1037"></span>') == []
    assert html_to_paragraphs("   ") == []
    assert html_to_paragraphs("") == []


def test_document_drops_script_style_nav_and_splits_blocks():
    doc = """<!DOCTYPE html><html><head><title>Page</title><style>p{color:red}</style></head>
    <body><nav><a href="/">Home</a></nav><h1>Report</h1>
    <p>First&nbsp;para with <a href="#">a link</a>.</p><script>alert("x")</script>
    <ul><li>one</li><li>two</li></ul><div>block<br>same block<br><br>new block</div>trailing</body></html>"""
    assert html_to_paragraphs(doc) == [
        "Report",
        "First para with a link.",
        "one",
        "two",
        "block same block",
        "new block",
        "trailing",
    ]


def test_document_with_xml_declaration_parses():
    doc = '<?xml version="1.0" encoding="utf-8"?><html><body><p>Caf\u00e9</p></body></html>'
    assert html_to_paragraphs(doc) == ["Caf\u00e9"]


def test_slugify_is_ascii_kebab_case():
    assert slugify("Política de Navarra: 2023!") == "politica-de-navarra-2023"
    assert slugify("  --  ") == ""


def test_pascal_slug_matches_hansard_urls():
    assert pascal_slug("Oil Refining Sector") == "OilRefiningSector"
    assert pascal_slug("Testing of NHS and Social Care Staff") == "TestingOfNHSAndSocialCareStaff"
    assert pascal_slug("A5036 Park Lane footbridge") == "A5036ParkLaneFootbridge"
