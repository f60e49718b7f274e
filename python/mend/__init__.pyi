"""Type stubs of the mend package (the functions live in the extension module mend._mend)."""

from typing import Iterable, List, Literal, Optional, Sequence, Tuple, TypedDict, Union

__version__: str

StageName = Literal["decode", "mojibake", "markup", "boilerplate", "quotes", "normalize"]
QuoteStyle = Literal["curly", "ascii", "keep"]
LossyMode = Literal["keep", "mark"]
# A stage name, a comma-separated string of names ("quotes,normalize"), or names.
Stages = Union[str, Iterable[str], None]

class _EditRequired(TypedDict):
    stage: StageName
    rule: str
    src: List[int]  # [start, end): byte span in the original text (UTF-8)
    at: List[int]  # [start, end): byte span in the stage's input text
    why: str

class Edit(_EditRequired, total=False):
    """One edit or finding, with the fields of a notes edit object (absent ones left out)."""

    out: List[int]  # decode only
    removed: str
    removed_bytes: str  # decode only: hex
    inserted: str
    text: str  # a finding: what it is about
    finding: bool  # True for a finding (nothing changed)

class Cleaned(TypedDict):
    text: str
    edits: List[Edit]

# (record, notes, attributes, error); a blank line gives (None, None, None, None).
JsonlRow = Tuple[Optional[str], Optional[str], Optional[str], Optional[str]]

def clean(
    text: str,
    quotes: QuoteStyle = "curly",
    only: Stages = None,
    skip: Stages = None,
    lossy: LossyMode = "keep",
) -> Cleaned:
    """Cleans one text (a record, not a file: no final newline is added).

    Raises ValueError on an unknown stage, quote style or lossy mode.
    """

def clean_batch(
    texts: Iterable[str],
    quotes: QuoteStyle = "curly",
    only: Stages = None,
    skip: Stages = None,
    lossy: LossyMode = "keep",
    threads: Optional[int] = None,
) -> List[Cleaned]:
    """Cleans many texts with the GIL released, on all cores (threads=None),
    on the calling thread (threads=1) or on N threads. Result i equals clean(texts[i], ...)."""

def clean_jsonl(
    lines: Iterable[Union[str, bytes]],
    text_field: str = "text",
    notes: Optional[Literal["line", "inline"]] = "line",
    attributes: bool = False,
    quotes: QuoteStyle = "curly",
    only: Stages = None,
    skip: Stages = None,
    lossy: LossyMode = "keep",
    threads: Optional[int] = None,
) -> List[JsonlRow]:
    """Cleans JSON-lines records byte for byte as `mend clean --format jsonl` does:
    per line (record, notes line, dolma attributes line, error)."""

def restore(text: str, edits: Union[Sequence[Edit], str]) -> str:
    """The original text from a clean text and its edits (a list of edit dicts,
    or JSON: a list of edits, or a notes line / record with an "edits" list).

    Raises ValueError when the edits do not fit the text."""

def stages() -> List[StageName]:
    """The stage names, in pipeline order."""
