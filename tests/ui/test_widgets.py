"""Pure helpers in ui.widgets (no Streamlit session needed)."""

import pandas as pd

from ui import widgets


def test_random_per_class_takes_n_decodable_images_of_each_class():
    table = pd.DataFrame({"path": [f"{i}.png" for i in range(40)],
                          "label": pd.Series(["a", "b", "", None] * 10, dtype="string"),
                          "ok": [i % 5 != 0 for i in range(40)]})
    picked = widgets.random_per_class(table, n=3, seed=1)
    assert picked["ok"].all() and picked["label"].value_counts().to_dict() == {"a": 3, "b": 3, "": 3}
    assert picked.equals(widgets.random_per_class(table, n=3, seed=1))  # a seed draws the same images
    assert not picked.equals(widgets.random_per_class(table, n=3, seed=2))


def test_selecting_a_page_ticks_each_of_its_checkboxes():
    assert widgets.selection_ticks("browse_sel", ["a.png", "b/c.png"], True) == {
        "browse_sel::a.png": True, "browse_sel::b/c.png": True}
    assert widgets.selection_ticks("dup_sel", ["a.png"], False) == {"dup_sel::a.png": False}
