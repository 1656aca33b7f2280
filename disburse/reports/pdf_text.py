"""Text written straight into a page's content stream: string operands for the font, widths, wrapping.

The exception listing draws hundreds of thousands of strings. reportlab's ``drawString`` costs tens of
microseconds each (a text object, a subset lookup per character, number formatting), far more than the
listing can afford, so the listing writes PDF operators itself (``pdf_listing``). What it needs for that is
here: ``FontEncoder`` turns text into ``(…) Tj`` operands through the same subset machinery reportlab's own
text objects use (``TTFont.splitString`` / ``getSubsetInternalName``, documented in ``reportlab.pdfbase.
ttfonts`` for this purpose), so the font is still embedded as a subset of the glyphs used and text extracts
as Unicode; ``Metrics`` measures and wraps text exactly as ``pdfmetrics.stringWidth`` measures it.

Both also work on a whole Polars column at once (``FontEncoder.encode_column``, ``Metrics.wrap_column``):
a province lists 200,000 rows with 12 million characters of details, too many for a Python call per cell.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import polars as pl
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


_Ints = np.ndarray[Any, np.dtype[np.int64]]
_Codes16 = np.ndarray[Any, np.dtype[np.uint16]]
_Codes32 = np.ndarray[Any, np.dtype[np.uint32]]
_Flags = np.ndarray[Any, np.dtype[np.bool_]]


def code_points(texts: pl.Series) -> tuple[_Codes16 | _Codes32, _Ints]:
    """Every text's characters end to end as code points (nulls as empty texts), and ``offsets``: text
    ``i`` is ``codes[offsets[i]:offsets[i + 1]]``. 16-bit codes when every character is in the Basic
    Multilingual Plane (all of Vietnamese), which halves the memory and makes a width table a plain lookup.
    """
    offsets = np.zeros(texts.len() + 1, dtype=np.int64)
    np.cumsum(texts.str.len_chars().fill_null(0).to_numpy(), out=offsets[1:])
    joined: str = texts.fill_null("").str.join("").item() if texts.len() else ""
    codes16: _Codes16 = np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), dtype="<u2")
    if len(codes16) == len(joined):  # no surrogate pair: one UTF-16 unit per character
        return codes16, offsets
    codes32: _Codes32 = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return codes32, offsets


def _texts(codes: _Codes16 | _Codes32) -> str:
    encoding = "utf-16-le" if codes.dtype == np.uint16 else "utf-32-le"
    return codes.tobytes().decode(encoding, "surrogatepass")


def distinct_chars(codes: _Codes16 | _Codes32) -> list[int]:
    """The distinct code points of ``code_points``, ascending."""
    if codes.dtype == np.uint16:
        found: list[int] = np.flatnonzero(np.bincount(codes, minlength=1)).tolist()
        return found
    unique: list[int] = np.unique(codes).tolist()
    return unique


# A character that printable ASCII's identity encoding does not write as it is (a line break is kept).
_NOT_AS_IS: Final = r"[^ -'*-\[\]-~\n]"
_PRINTABLE: Final = "".join(chr(code) for code in range(32, 127) if chr(code) not in "()\\")


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
        # For ``encode_column``: the characters looked at so far, the operands of those not written as they
        # are, and a regex class matching any other character.
        self._seen: set[str] = set()
        self._operands: dict[str, str] = {}
        self._unseen: str | None = None
        # The operator selecting the font; ``show`` assumes it.
        self.select = f"{font.getSubsetInternalName(0, doc)} {num(size)} Tf"

    def show(self, text: str) -> str:
        """``(…) Tj`` for ``text``; the font must be selected (``select``) and is left selected."""
        plain = text.isascii() and text.isprintable()  # control characters have glyph codes of their own
        if self._ascii_as_is and plain and "(" not in text and ")" not in text and "\\" not in text:
            return f"({text}) Tj"
        return f"({text.translate(self._codes)}) Tj"

    def encode_column(self, texts: pl.Series, line_break: str | None = None) -> pl.Series:
        """What ``show`` writes between the parentheses, for a column of texts at once; a line break is
        written as ``line_break`` (an operator sequence that ends the string and starts the next), or kept
        as it is when None.

        One ``replace_many`` over the column with every character the document has encoded so far; the
        characters are looked for only when the column has one not encoded yet (the first blocks of a
        listing), and then get their codes in code point order: as deterministic as the order of use, and
        the subset still holds only characters the document shows.
        """
        breaks = line_break is not None and texts.str.contains("\n", literal=True).any()
        if self._ascii_as_is and not breaks and not texts.str.contains(_NOT_AS_IS).any():
            return texts  # identifiers, numbers: written as they are
        if self._unseen is None or texts.str.contains(self._unseen).any():
            codes, _ = code_points(texts)
            for code in distinct_chars(codes):
                char = chr(code)
                if char == "\n" or char in self._seen:
                    continue
                self._seen.add(char)
                if self._ascii_as_is and 32 <= code < 127 and char not in "()\\":
                    continue
                operand = char.translate(self._codes)
                if operand != char:
                    self._operands[char] = operand
            # A character class of everything encoded or written as it is, for the check above.
            known = sorted(self._seen | set(_PRINTABLE if self._ascii_as_is else "") | {"\n"})
            self._unseen = "[^" + "".join(f"\\x{{{ord(char):x}}}" for char in known) + "]"
        mapping = self._operands
        if breaks and line_break is not None:
            mapping = {**mapping, "\n": line_break}
        if not mapping:
            return texts
        return texts.str.replace_many(list(mapping), list(mapping.values()))


class _Widths(dict[str, float]):
    """Character → advance width at the font size; characters the font lacks take its default width."""

    def __init__(self, font: Any, size: float) -> None:
        scale = size / 1000
        super().__init__({chr(code): width * scale for code, width in font.face.charWidths.items()})
        self._default = float(font.face.defaultWidth) * scale

    def __missing__(self, char: str) -> float:
        return self._default


# Cells to wrap whose words are not separated by single spaces (``str.split()`` splits at any run of
# whitespace and drops it at the ends): left to the Python wrap. The class is every code point
# ``str.isspace`` accepts but the space; all of them lie below U+3001.
_OTHER_SPACES: Final = "".join(chr(code) for code in range(0x3001) if chr(code).isspace() and code != 32)
_IRREGULAR: Final = "^ | $|  |[" + "".join(f"\\x{{{ord(char):x}}}" for char in _OTHER_SPACES) + "]"
# Widths are summed in font units (integers); a sum this close to a column's room in units is left to the
# Python wrap, whose float sums decide such a tie.
_TIE: Final = 1e-6
# Cells wrapped at a time: a chunk of details is ~2M characters, some 40 MB of NumPy arrays at the peak.
_CHUNK_CELLS: Final = 32_768


class Metrics:
    """Widths and greedy word wrapping for one font and size, equal to ``pdfmetrics.stringWidth``'s sums."""

    def __init__(self, font_name: str, size: float) -> None:
        font = pdfmetrics.getFont(font_name)
        self._chars = _Widths(font, size)
        self._words: dict[str, float] = {}
        self.space = self._chars[" "]
        # Advance widths in font units (thousandths of the size), by code point; the last entry is the
        # default width of every code point beyond the table.
        widths = font.face.charWidths
        self._units = np.full(max(0xFFFF, *widths) + 2, int(font.face.defaultWidth), dtype=np.int32)
        for code, width in widths.items():
            self._units[code] = int(width)
        self._unit = size / 1000
        if any(float(width) != int(width) for width in widths.values()):
            raise ValueError(f"{font_name}: widths are not whole font units")

    def width(self, text: str) -> float:
        total: float = sum(map(self._chars.__getitem__, text), 0.0)
        return total

    def _word(self, word: str) -> float:
        width = self._words.get(word)
        if width is None:  # words recur (syllables, amounts): measure each once per report
            width = self._words[word] = self.width(word)
        return width

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

    def wrap_column(self, texts: pl.Series, room: float) -> pl.Series:
        """``"\\n".join(wrap(text, room))`` for every text wider than ``room`` or holding a line break;
        texts that fit are returned as they are (nulls too).

        Vectorised over the column with NumPy: widths are prefix sums of the characters' widths in font
        units, so a cell's width, a word's and a run of words' are differences, and the greedy wrap takes,
        for every cell at once, the last word whose end lies within ``room`` of its line's start (a binary
        search in the words' ends), one line per round. Cells the plain rule does not cover (a word wider
        than the column, whitespace other than single spaces between words, more than ``MAX_LINES``
        lines, a width within a rounding error of ``room``) are wrapped by ``wrap``, one by one. A long
        column is taken ``_CHUNK_CELLS`` cells at a time, which bounds the arrays' memory.
        """
        if texts.len() > _CHUNK_CELLS:
            return pl.concat([self._wrap_chunk(texts.slice(start, _CHUNK_CELLS), room)
                              for start in range(0, texts.len(), _CHUNK_CELLS)])
        return self._wrap_chunk(texts, room)

    def _wrap_chunk(self, texts: pl.Series, room: float) -> pl.Series:
        codes, offsets = code_points(texts)
        # The table covers the 16-bit codes; beyond it, the last entry is the default width.
        units = self._units[codes] if codes.dtype == np.uint16 else self._units.take(codes, mode="clip")
        ends = np.zeros(len(codes) + 1, dtype=np.int64)
        np.cumsum(units, out=ends[1:])
        limit = room / self._unit
        widths = ends[offsets[1:]] - ends[offsets[:-1]]
        wide = widths > limit
        for cell in np.flatnonzero(np.abs(widths - limit) < _TIE).tolist():  # as ``width`` sums it
            wide[cell] = self.width(texts[cell] or "") > room
        wide |= texts.str.contains("\n", literal=True).fill_null(False).to_numpy()
        cells = np.flatnonzero(wide)
        if not len(cells):
            return texts
        python = np.zeros(len(wide), dtype=bool)
        python[cells] = texts.gather(cells).str.contains(_IRREGULAR).to_numpy()
        spaces = self._breaks(codes, ends, offsets, wide & ~python, limit, python)
        wrapped = codes.copy()
        wrapped[spaces] = 10
        text = _texts(wrapped)
        bounds = zip(offsets[cells].tolist(), offsets[cells + 1].tolist(), strict=True)
        values = [text[start:stop] for start, stop in bounds]
        slow = np.flatnonzero(python[cells])
        if len(slow):
            originals = texts.gather(cells[slow]).to_list()
            for index, original in zip(slow.tolist(), originals, strict=True):
                values[index] = "\n".join(self.wrap(original or "", room))
        return texts.clone().scatter(cells, pl.Series(values, dtype=pl.String))

    def _breaks(self, codes: _Codes16 | _Codes32, ends: _Ints, offsets: _Ints, cells: _Flags, limit: float,
                python: _Flags) -> _Ints:
        """Where the lines of ``cells`` (cells of single-space-separated words) break: the indices of the
        spaces to turn into line breaks. Marks in ``python`` the cells the rule leaves to ``wrap``."""
        space = codes == 32
        # Words are the runs between spaces and cell ends; the cells' lengths mark the ends.
        edges = np.zeros(len(codes) + 1, dtype=bool)
        edges[offsets] = True
        letter = ~space
        starts = np.flatnonzero(letter & (edges[:-1] | np.concatenate(([True], space[:-1]))))
        stops = np.flatnonzero(letter & (edges[1:] | np.concatenate((space[1:], [True])))) + 1
        word_cell = np.searchsorted(offsets, starts, side="right") - 1
        chosen = cells[word_cell]
        starts, stops, word_cell = starts[chosen], stops[chosen], word_cell[chosen]
        too_wide = ends[stops] - ends[starts] > limit - _TIE  # to be cut between letters
        python[word_cell[too_wide]] = True
        keep = ~python[word_cell]
        starts, stops, word_cell = starts[keep], stops[keep], word_cell[keep]
        line_from, word_end = ends[starts], ends[stops]  # both ascending
        active = np.unique(word_cell)
        start = np.searchsorted(word_cell, active, side="left")
        last = np.searchsorted(word_cell, active, side="right") - 1
        lines = np.ones(len(active), dtype=np.int64)
        found: list[_Ints] = []
        while len(active):
            # The line's last word: the last whose end is within `limit` of the line's start.
            reach = line_from[start] + limit
            end = np.minimum(np.searchsorted(word_end, reach, side="right") - 1, last)
            more = end < last
            after = word_end[np.minimum(end + 1, len(word_end) - 1)]
            tie = (np.abs(word_end[end] - reach) < _TIE) | (more & (np.abs(after - reach) < _TIE))
            python[active[tie]] = True
            go_on = more & ~tie
            lines = lines[go_on] + 1
            over = lines > MAX_LINES
            python[active[go_on][over]] = True
            go_on[np.flatnonzero(go_on)[over]] = False
            lines = lines[~over]
            found.append(stops[end[go_on]])  # the space after the line's last word
            active, start, last = active[go_on], end[go_on] + 1, last[go_on]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
