"""Files the tools read back are read exactly. A manifest's cells are never un-quoted (a file may be named
'=a.png, a class '-1); findings.csv, spreadsheet-safe for people, still reads back exactly what was written."""

import pandas as pd

from inspectors.config import ScanConfig
from inspectors.dataset import load_dataset
from inspectors.run import read_findings, write_findings
from inspectors.scan import scan
from tests.conftest import encode, noise_image, write


def test_a_manifest_path_or_label_starting_with_a_quote_is_read_as_written(tmp_path):
    for i, name in enumerate(("'=a.png", "'-1.png", "plain.png")):
        write(tmp_path / "images" / name, encode(noise_image(20, 20, seed=i), "PNG"))
    (tmp_path / "labels.csv").write_text("path,label\nimages/'=a.png,cat\nimages/'-1.png,'-1\nimages/plain.png,'+x\n")
    samples = scan(load_dataset(tmp_path / "labels.csv"), ScanConfig(workers=1)).samples.set_index("path")
    assert samples["label"].to_dict() == {"images/'-1.png": "'-1", "images/'=a.png": "cat", "images/plain.png": "'+x"}
    assert samples["entry"].tolist() == ["image"] * 3 and samples["ok"].all() and not samples["orphan"].any()


def test_findings_csv_reads_back_every_cell_exactly(tmp_path):
    cells = ["'-1", "-1", "''=x", "'=x", "=x", "'", "''", "@SUM(A1)", "+1", "'plain", "plain", ""]
    found = pd.DataFrame({"path": cells, "issue": "corrupt", "score": 1.0, "group": cells[::-1], "detail": cells})
    back = read_findings(write_findings(found, tmp_path))
    for column in ("path", "group", "detail"):
        assert back[column].tolist() == found[column].tolist(), column
    raw = pd.read_csv(tmp_path / "findings.csv", dtype=str, keep_default_na=False)
    assert not raw["path"].str.match(r"^[=+\-@]").any()  # still safe to open in a spreadsheet
