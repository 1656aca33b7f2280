"""Text written straight into a page's content stream: string operands for the font, widths, wrapping.

The exception listing draws hundreds of thousands of strings. reportlab's ``drawString`` costs tens of
microseconds each (a text object, a subset lookup per character, number formatting), far more than the
listing can afford, so the listing writes PDF operators itself (``pdf_listing``). What it needs for that is
here: ``FontEncoder`` turns text into ``(…) Tj`` operands through the same subset machinery reportlab's own
text objects use (``TTFont.splitString`` / ``getSubsetInternalName``, documented in ``reportlab.pdfbase.
ttfonts`` for this purpose), so the font is still embedded as a subset of the glyphs used and text extracts
as Unicode; ``Metrics`` measures and wraps text exactly as ``pdfmetrics.stringWidth`` measures it.
"""

from __future__ import annotations

from typing import Any, Final

from reportlab.lib.rl_accel import escapePDF
from reportlab.pdfbase import pdfmetrics

# A cell of more lines than this is cut (a table row cannot continue on the next page; this keeps every row
# far shorter than a page), ending with a pointer to where the whole text is.
MAX_LINES: Final = 24
CUT_MARKER: Final = "… (xem đầy đủ trong exceptions.csv)"


def num(value: float) -> str:
    """A PDF number: at most three decimals, no trailing zeros, never an exponent."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def rgb(colour: Any) -> str:
    """A reportlab colour as ``r g b`` operands (for ``rg``/``RG``)."""
    return " ".join(num(component) for component in colour.rgb())


class _Codes(dict[int, str]):
    """Code point → escaped byte in the font's subset, filled on first use (``str.translate`` calls
    ``__missing__`` for a character it has not seen), so glyphs are assigned in the order the document uses
    them, as reportlab's own text objects do: the output stays deterministic and the subset minimal."""

    def __init__(self, font: Any, doc: Any, size: str) -> None:
        super().__init__()
        self._font, self._doc, self._size = font, doc, size

    def __missing__(self, code: int) -> str:
        pieces = []
        for subset, data in self._font.splitString(chr(code), self._doc):
            operand = escapePDF(data)
            if subset == 0:
                pieces.append(operand)
            else:
                # A glyph beyond the first 256 lives in another subset, i.e. another PDF font: switch to it
                # for this glyph and back, so that every encoded string starts and ends in subset 0.
                other = self._font.getSubsetInternalName(subset, self._doc)
                first = self._font.getSubsetInternalName(0, self._doc)
                pieces.append(f") Tj {other} {self._size} Tf ({operand}) Tj {first} {self._size} Tf (")
        self[code] = value = "".join(pieces)
        return value


class FontEncoder:
    """Text as PDF string operands for one embedded TrueType font at one size, in one document."""

    def __init__(self, font_name: str, size: float, doc: Any) -> None:
        font = pdfmetrics.getFont(font_name)
        self._codes = _Codes(font, doc, num(size))
        # Printable ASCII is its own code in subset 0 (reportlab's "asciiReadable" subsets): such text needs
        # no table at all, which is most of the listing (identifiers, numbers). Checked, not assumed.
        printable = "".join(chr(code) for code in range(32, 127))
        identity = font.splitString(printable, doc) == [(0, printable.encode("ascii"))]
        self._ascii_as_is = identity
        # The operator selecting the font; ``show`` assumes it.
        self.select = f"{font.getSubsetInternalName(0, doc)} {num(size)} Tf"

    def show(self, text: str) -> str:
        """``(…) Tj`` for ``text``; the font must be selected (``select``) and is left selected."""
        if self._ascii_as_is and text.isascii() and "(" not in text and ")" not in text and "\\" not in text:
            return f"({text}) Tj"
        return f"({text.translate(self._codes)}) Tj"


class _Widths(dict[str, float]):
    """Character → advance width at the font size; characters the font lacks take its default width."""

    def __init__(self, font: Any, size: float) -> None:
        scale = size / 1000
        super().__init__({chr(code): width * scale for code, width in font.face.charWidths.items()})
        self._default = float(font.face.defaultWidth) * scale

    def __missing__(self, char: str) -> float:
        return self._default


class Metrics:
    """Widths and greedy word wrapping for one font and size, equal to ``pdfmetrics.stringWidth``'s sums."""

    def __init__(self, font_name: str, size: float) -> None:
        font = pdfmetrics.getFont(font_name)
        self._chars = _Widths(font, size)
        self._words: dict[str, float] = {}
        self.space = self._chars[" "]

    def width(self, text: str) -> float:
        total: float = sum(map(self._chars.__getitem__, text), 0.0)
        return total

    def _word(self, word: str) -> float:
        width = self._words.get(word)
        if width is None:  # words recur (syllables, amounts): measure each once per report
            width = self._words[word] = self.width(word)
        return width

    def widest_digit(self) -> str:
        return max("0123456789", key=self._chars.__getitem__)

    def wrap(self, text: str, room: float) -> list[str]:
        """Lines of at most ``room`` points: words kept whole where they fit, a longer word cut between
        letters, explicit line breaks kept; at most ``MAX_LINES`` lines, the last saying the text is cut."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line, used = "", 0.0
            for word in paragraph.split():
                width = self._word(word)
                if line and used + self.space + width <= room:
                    line, used = f"{line} {word}", used + self.space + width
                    continue
                if line:
                    lines.append(line)
                line, used = word, width
                if width > room:  # a file name, a long reference: no space to break at
                    *full, line = self._cut(word, room)
                    lines += full
                    used = self.width(line)
            lines.append(line)
        if len(lines) > MAX_LINES:
            marker = self.wrap(CUT_MARKER, room) if self.width(CUT_MARKER) > room else [CUT_MARKER]
            lines = [*lines[: MAX_LINES - len(marker)], *marker]
        return lines

    def _cut(self, word: str, room: float) -> list[str]:
        pieces: list[str] = []
        start, used = 0, 0.0
        for index, char in enumerate(word):
            width = self._chars[char]
            if used + width > room and index > start:
                pieces.append(word[start:index])
                start, used = index, 0.0
            used += width
        pieces.append(word[start:])
        return pieces
