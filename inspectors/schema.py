"""Column names and the issue vocabulary: the contract every module reads (see DESIGN.md).

Scores run from 0 to 1 and **1 means most suspicious**, ranked within one issue type. This is the
opposite of cleanvision and cleanlab, where a low quality score is bad.
"""

# samples table: what dataset.py lists
LISTING_COLUMNS = ["path", "label", "split", "entry", "orphan"]

# `entry` says what the listing found at `path`; only "image" entries are decoded by the scan.
ENTRY_IMAGE = "image"  # a regular file with an image extension
ENTRY_UNSUPPORTED = "unsupported"  # any other file inside a class folder, a FIFO, a directory named x.jpg
ENTRY_MISSING = "missing"  # a CSV row whose file does not exist
ENTRY_KINDS = (ENTRY_IMAGE, ENTRY_UNSUPPORTED, ENTRY_MISSING)

# samples table: what scan.py adds per file
SCAN_COLUMNS = [
    "bytes", "mtime_ns", "file_hash", "pixel_hash", "format", "width", "height", "exif_orientation",
    "mode", "frames", "ok", "error", "phash", "dhash", "brightness", "contrast", "sharpness",
    "entropy", "colour_entropy",  # bits of grey-level and of 12-bit colour histogram entropy
    "lum_p01", "lum_p05", "lum_p95", "lum_p99",  # luminance percentiles: dark/light judge by them
    "mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b", "appearance",
    "content",  # the 32x32 grey thumbnail (1,024 uint8 bytes) content-level copies are found on
]
SAMPLE_COLUMNS = LISTING_COLUMNS + SCAN_COLUMNS
FEATURE_COLUMNS = SCAN_COLUMNS[2:]  # what reading one file yields (bytes and mtime come from the listing)
INT_COLUMNS = ["bytes", "mtime_ns", "width", "height", "exif_orientation", "frames", "phash", "dhash"]
FLOAT_COLUMNS = ["brightness", "contrast", "sharpness", "entropy", "colour_entropy", "lum_p01", "lum_p05",
                 "lum_p95", "lum_p99", "mean_r", "mean_g", "mean_b", "std_r", "std_g", "std_b"]

SPLITS = ("train", "val", "test")  # in leak order: a copy counts against the later split
SPLIT_ALIASES = {"train": "train", "training": "train", "val": "val", "valid": "val",
                 "validation": "val", "dev": "val", "test": "test", "testing": "test"}

APPEARANCE_SIDE = 16  # the appearance vector is a 16x16 grey thumbnail, 256 uint8 bytes
BINARY_COLUMNS = ["appearance", "content"]  # bytes per row; no page shows them

# findings table
FINDING_COLUMNS = ["path", "issue", "score", "group", "detail"]
ISSUES = (
    "exact_duplicate", "near_duplicate", "split_leak", "conflicting_labels",
    "corrupt", "format_mismatch", "unsupported_file", "missing_file", "orphan_file",
    "odd_size", "odd_aspect_ratio", "dark", "light", "blurry", "low_information", "odd_mode",
    "outlier", "label_issue",
)
SCORE_DIRECTION = "1 = most suspicious (ranked within one issue type); cleanvision/cleanlab use low = bad"

SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # OWASP's CSV-injection list


def _quoted_trigger(value: str, quotes: int) -> bool:
    """Whether the value is at least `quotes` quotes followed by a formula trigger."""
    rest = value.lstrip("'")
    return len(value) - len(rest) >= quotes and rest.startswith(SPREADSHEET_TRIGGERS)


def neutralise(value):
    """Spreadsheets run cells starting with = + - @ (tab, CR) as formulas: prefix them with a quote. A value
    that is already quotes then a trigger (a class named '-1) gets one more, so unneutralise gives it back."""
    if isinstance(value, str) and _quoted_trigger(value, 0):
        return "'" + value
    return value


def unneutralise(value):
    """Undo neutralise exactly: strip the one quote it added (the tools read back what they wrote)."""
    if isinstance(value, str) and _quoted_trigger(value, 1):
        return value[1:]
    return value
