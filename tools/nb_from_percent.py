"""Authoring aid (not used by the course at run time): convert a py:percent script into a course notebook.

    .venv/bin/python tools/nb_from_percent.py /tmp/draft.py week08_simclr/08_simclr_code_analysis.ipynb

Cells: `# %%` code, `# %% [markdown]` Markdown, `# %% tags=["parameters"]` the parameters cell. The notebook
gets the standard kernelspec, no jupytext metadata and no outputs. The .ipynb is the single source; do not
commit the script. The reverse: `.venv/bin/jupytext --to py:percent NOTEBOOK -o /tmp/draft.py`.
"""
import json
import sys
from pathlib import Path

import jupytext


def convert(src: str, dst: str) -> None:
    nb = jupytext.read(src, fmt="py:percent")
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        cell.metadata = {"tags": tags} if tags else {}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    text = jupytext.writes(nb, fmt="ipynb")
    Path(dst).write_text(json.dumps(json.loads(text), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    convert(sys.argv[1], sys.argv[2])
