"""Safe by default: the app listens on 127.0.0.1 only, exports cannot run formulas in a spreadsheet,
manifests hold ./relative paths, checkpoints load without unpickling code, and nothing in the product
downloads anything at run time."""

import ast
import socket
import tomllib

import pandas as pd
import pytest

from inspectors.dataset import load_dataset
from inspectors.run import neutralise, read_findings, unneutralise, write_findings
from inspectors.sheets import manifest_text, neutralised
from tests.hostile.helpers import REPO, tiny_images
from ui import tables

PRODUCT = ["inspectors", "baselines", "ui", "pages", "app.py"]
TRIGGERS = ["=1+1", "+1", "-1", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\")"]
# modules that talk to the network; none belongs in the product
NETWORK_MODULES = {"urllib", "urllib3", "requests", "httpx", "aiohttp", "http", "ftplib", "socket", "smtplib",
                   "huggingface_hub", "wget", "pycurl", "websocket", "websockets"}
DOWNLOADERS = {"download_url_to_file", "load_state_dict_from_url", "load_url", "hf_hub_download", "urlretrieve",
               "download_url", "download_and_extract_archive", "snapshot_download"}


def product_sources():
    for name in PRODUCT:
        path = REPO / name
        yield from ([path] if path.is_file() else sorted(path.rglob("*.py")))


def parsed():
    for path in product_sources():
        yield path.relative_to(REPO), ast.parse(path.read_text(), filename=str(path))


def dotted(node) -> str:
    """torch.hub.load -> 'torch.hub.load' for Name/Attribute chains; '' otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def test_the_app_binds_127_0_0_1_and_sends_no_usage_statistics():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False
    readme = (REPO / "README.md").read_text()
    assert "--server.address=0.0.0.0" in readme  # how to expose it, and what that exposes, is documented


@pytest.mark.parametrize("cell", TRIGGERS)
def test_spreadsheet_cells_that_would_run_are_neutralised_and_read_back(cell):
    assert neutralise(cell) == "'" + cell
    assert unneutralise(neutralise(cell)) == cell
    safe = neutralised(pd.DataFrame({"path": [cell, "train/a/x.png"], "n": [1, 2]}))
    assert safe["path"].tolist() == ["'" + cell, "train/a/x.png"] and safe["n"].tolist() == [1, 2]


def test_findings_csv_neutralises_paths_and_details_and_reads_them_back(tmp_path):
    found = pd.DataFrame({"path": ["=cmd|'/C calc'!A0.png", "train/a/ok.png"], "issue": ["corrupt", "dark"],
                          "score": [1.0, 0.5], "group": ["", "@g1"], "detail": ["-bad", "+fine"]})
    written = write_findings(found, tmp_path)
    raw = pd.read_csv(written, dtype=str, keep_default_na=False)
    for column in ("path", "group", "detail"):
        assert not raw[column].str.match(r"^[=+\-@]").any(), raw[column].tolist()
    back = read_findings(written)
    assert back["path"].tolist() == found["path"].tolist() and back["detail"].tolist() == found["detail"].tolist()


def test_cleaned_manifest_paths_are_dot_relative_and_read_back_as_the_same_files(tmp_path):
    ds = tiny_images(tmp_path / "ds", 6, classes=("a", "b"))
    samples = load_dataset(ds).samples.assign(ok=True)
    marks = pd.DataFrame({"path": ["train/a/00000.png", "train/b/00001.png"], "decision": ["remove", "relabel"],
                          "new_label": [None, "a"], "note": [None, None], "updated": [0.0, 0.0]})
    manifest = tables.cleaned_manifest(samples, marks)
    assert manifest["path"].str.startswith("./").all()
    assert "./train/a/00000.png" not in set(manifest["path"])
    assert manifest.set_index("path").loc["./train/b/00001.png", "label"] == "a"
    out = tmp_path / "elsewhere" / "cleaned_manifest.csv"  # the workspace: outside the dataset
    out.parent.mkdir()
    manifest.to_csv(out, index=False)
    reread = load_dataset(ds, out).samples
    named = reread[~reread["orphan"]]  # the removed file is still on disk: an orphan, unlabelled
    assert (named["entry"] == "image").all()
    assert sorted(named["path"]) == sorted(p[2:] for p in manifest["path"])
    assert reread.loc[reread["orphan"], "path"].tolist() == ["train/a/00000.png"]


def test_a_cleaned_manifest_is_written_exactly_and_keeps_labels_that_start_with_a_sign(tmp_path):
    ds = tiny_images(tmp_path / "ds", 4, classes=("-1", "+1"))
    samples = load_dataset(ds).samples.assign(ok=True)
    manifest = tables.cleaned_manifest(samples, pd.DataFrame(columns=["path", "decision", "new_label"]))
    out = tmp_path / "ws" / "cleaned_manifest.csv"
    out.parent.mkdir()
    out.write_text(manifest_text(manifest))  # as the Review page writes it: for the tools, not a spreadsheet
    assert "'" not in out.read_text()
    reread = load_dataset(ds, out).samples
    assert sorted(set(reread["label"])) == ["+1", "-1"]


def test_checkpoints_are_loaded_only_with_weights_only_true():
    loads = []
    for path, tree in parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and dotted(node.func) == "torch.load":
                safe = any(k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                           for k in node.keywords)
                loads.append((str(path), node.lineno, safe))
    assert loads, "no torch.load found: the test no longer looks where checkpoints are loaded"
    assert all(safe for *_, safe in loads), [x for x in loads if not x[2]]
    assert any(path == "baselines/models.py" for path, *_ in loads)


def test_nothing_in_the_product_imports_a_network_client_or_calls_a_downloader():
    found = []
    for path, tree in parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                names = []
            for name in names:
                if name.split(".")[0] in NETWORK_MODULES:
                    found.append(f"{path}:{node.lineno} imports {name}")
            if isinstance(node, ast.Call):
                name = dotted(node.func)
                if name.split(".")[-1] in DOWNLOADERS or ".hub." in f".{name}." or name.startswith("hub."):
                    found.append(f"{path}:{node.lineno} calls {name}")
                for k in node.keywords if name.startswith("torchvision.") else []:  # weights="DEFAULT" downloads
                    if k.arg in ("weights", "pretrained") and isinstance(k.value, ast.Constant) and \
                            k.value.value not in (None, False, ""):
                        found.append(f"{path}:{node.lineno} {name}({k.arg}={k.value.value!r})")
                    if k.arg == "weights" and not isinstance(k.value, ast.Constant):
                        found.append(f"{path}:{node.lineno} {name}(weights=<computed>)")
    assert not found, "\n".join(found)


def test_building_every_model_opens_no_connection(monkeypatch):
    from baselines import models

    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for name in ("input_independent", "logistic", "tiny_cnn", "small_resnet", "resnet18"):
        assert models.build(name, 3, 32) is not None
