"""Issue text as the classifier sees it: title, body without noise, form headings.

Code blocks, URLs and HTML comments are replaced by placeholder words rather than
dropped: *that* an issue carries a code block or a link says something (bug reports
paste logs), while their contents mostly add vocabulary noise on ~300 examples.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
_URL = re.compile(r"https?://\S+")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)
# A bold line alone is how older issue templates mark their headings.
_BOLD_HEADING = re.compile(r"^\s*\*\*(.+?)\*\*:?\s*$", re.M)
_TRACE = re.compile(r'^\s+at \S+|Traceback \(most recent call last\)|File ".*", line \d+', re.M)

BODY_CHARS = 2000  # what the text model reads of a body; templates put the telling part first


@dataclass(frozen=True)
class IssueText:
    title: str
    body: str = ""
    labels: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, title: str | None, body: str | None, labels: tuple[str, ...] = ()) -> "IssueText":
        return cls(title=title or "", body=body or "", labels=tuple(labels))


# Cleaning looks this far into a body at most: a pasted 1 MB log must not cost seconds.
SCAN_CHARS = 20000


def clean_body(body: str, limit: int = BODY_CHARS) -> str:
    text = _HTML_COMMENT.sub(" ", (body or "")[:SCAN_CHARS])
    text = _FENCE.sub(" zzcodeblock ", text)
    text = _URL.sub(" zzurl ", text)
    return text[:limit]


def headings(body: str) -> list[str]:
    """Markdown headings (and bold-line headings) of a body, normalised to lower case.
    Not what only looks like one inside a code block (a shell or Python comment) or an
    HTML comment (a template's hidden instructions)."""
    head = _FENCE.sub("\n", _HTML_COMMENT.sub("\n", (body or "")[:SCAN_CHARS]))
    found = _HEADING.findall(head) + _BOLD_HEADING.findall(head)
    return [normalise_heading(h) for h in found]


# What templates put before a heading's words: emoji, :shortcodes:, bold or italic marks.
_HEADING_LEAD = re.compile(r"^(?::[a-z0-9_+-]+:|[^\w\s]|_|\s)+")


def normalise_heading(text: str) -> str:
    text = _HEADING_LEAD.sub("", re.sub(r"\s+", " ", text.strip().lower()))
    return re.sub(r"[\s:]+$", "", text)


def has_code_block(body: str) -> bool:
    return "```" in (body or "")


def has_stack_trace(body: str) -> bool:
    return bool(_TRACE.search((body or "")[:SCAN_CHARS]))
