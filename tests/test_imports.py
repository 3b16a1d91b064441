"""``import pystats`` is cheap: heavy dependencies are imported only by what uses them.

Each check runs in a fresh interpreter (``sys.modules`` of the test process already holds
everything).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import pystats

HEAVY = ("torch", "matplotlib", "arviz", "stan", "httpstan", "cmdstanpy", "xarray", "tqdm",
         "dask", "distributed")
"""Never needed to read a catalogue or to estimate a b-value or Mc."""


def _loaded_after(code: str, watch: tuple[str, ...]) -> list[str]:
    """Modules of ``watch`` in ``sys.modules`` after running ``code`` in a new interpreter."""
    script = (
        "import sys, json, warnings\nwarnings.simplefilter('ignore')\n"
        + code
        + f"\nprint(json.dumps([m for m in {list(watch)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_pystats_loads_no_third_party_package() -> None:
    assert _loaded_after("import pystats", (*HEAVY, "pandas", "scipy")) == []


def test_reading_a_catalogue_and_a_b_value_import_no_heavy_package(shared_data: Path) -> None:
    path = shared_data / "catalogs" / "miyagi2003_aftershocks_sapp.csv"
    code = (
        "import pystats\n"
        f"cat = pystats.read_catalog({str(path)!r}, missing_magnitude=0.0, on_missing='drop')\n"
        "r = pystats.b_value(cat.magnitudes, mc=2.5)\n"
        "assert 0.7 < r.b < 0.95 and r.ci()[0] < r.b < r.ci()[1]\n"
        "from pystats.gr import b_positive, estimate_mc\n"
        "assert 1.5 < estimate_mc(cat.magnitudes, method='maxc').mc < 3.0\n"
    )
    # scipy.stats (~0.4 s) and scipy.optimize (~0.2 s idle) are not needed either
    assert _loaded_after(code, (*HEAVY, "scipy.stats", "scipy.optimize")) == []


def test_building_a_model_imports_no_engine() -> None:
    code = "import pystats\npystats.GutenbergRichter(mc=2.0)\npystats.ETAS(mc=3.0)\n"
    assert _loaded_after(code, HEAVY) == []


def test_lazy_names_are_public_and_listed() -> None:
    assert set(pystats.__all__) <= set(dir(pystats))
    for name in pystats.__all__:
        assert getattr(pystats, name) is not None, name
    from pystats import Catalog, GutenbergRichter, b_value, read_catalog
    from pystats.gr.estimators import b_value as b_value_here
    from pystats.gr.model import GutenbergRichter as GR
    from pystats.readers import read_catalog as rc

    assert (b_value, GutenbergRichter, read_catalog) == (b_value_here, GR, rc)
    assert Catalog.__module__ == "pystats.catalog"
    assert isinstance(pystats.__version__, str) and pystats.__version__[0].isdigit()
    # subpackages are attributes before their first import, as when imported eagerly
    code = (
        "import pystats\n"
        "assert pystats.gr.b_positive is pystats.gr.estimators.b_positive\n"
        "assert 'b_positive' in dir(pystats.gr) and 'estimators' in dir(pystats.gr)\n"
        "from pystats import *\n"
        "assert ETAS.family == 'etas' and callable(read_comcat)\n"
    )
    assert _loaded_after(code, ()) == []
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        pystats.gr.nonexistent  # noqa: B018
