"""Sphinx configuration: the site built by ``make docs`` into ``docs/_build/html``.

The markdown pages of ``docs/`` are read by myst-parser and stay readable on GitHub; the API
reference is generated from the numpydoc docstrings (``api.rst``, autosummary pages in
``generated/``); the gallery is built by sphinx-gallery from ``examples/`` into
``auto_examples/``: ``plot_*.py`` are run (at their small default sizes), ``slurm_cgls.py`` and
``gpu_deblurring.py`` are shown without being run (they need a SLURM cluster, a GPU).
"""

import os
import re

import matplotlib

matplotlib.use("Agg")

import pylops_distributed  # noqa: E402

project = "pylops_distributed"
author = "pylops_distributed developers"
copyright = "2026, pylops_distributed developers"
release = pylops_distributed.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

root_doc = "index"
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_theme = "pydata_sphinx_theme"
html_title = f"pylops_distributed {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}

# --- API reference ---------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False  # the class template lists members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()  # no style checks; malformed sections still fail the build (-W)
nitpicky = False

# --- markdown pages --------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

# The markdown pages link to a few files outside docs/ (to be followed on GitHub). The site
# includes those files as pages of its own (readme.md, benchmarks.md, cluster-configs.md, the
# gallery): the links are pointed at those pages while the sources are read.
_OUTSIDE = {
    "../README.md": "readme.md",
    "../benchmarks/RESULTS.md": "benchmarks.md",
    "../cluster_configs/README.md": "cluster-configs.md",
    "../examples/": "auto_examples/index.rst",
}
_LINK = re.compile(r"\]\((" + "|".join(re.escape(k) for k in _OUTSIDE) + r")(#[^)]*)?\)")

# docs/index.md is a plain list of links (GitHub shows it as the docs' contents); the site's
# navigation (its toctree) is added to it here, so that GitHub does not show it as code.
_TOCTREE = """

```{toctree}
:hidden:
:caption: User guide

readme
auto_examples/index
differences
signalprocessing
multigpu
faults
engine
```

```{toctree}
:hidden:
:caption: Deployments
:glob:

deploy-laptop
deploy-gpu-workstation
deploy-slurm
deploy-pbs
deploy-*
cluster-configs
gpu-testing
```

```{toctree}
:hidden:
:caption: Reference

api
benchmarks
```
"""


def _relink(text):
    return _LINK.sub(lambda m: f"]({_OUTSIDE[m.group(1)]}{m.group(2) or ''})", text)


def _source_read(app, docname, source):
    source[0] = _relink(source[0])
    if docname == app.config.root_doc:
        source[0] += _TOCTREE


def _include_read(app, relative_path, parent_docname, content):
    content[0] = _relink(content[0])


def _fix_inherited_docstring(app, what, name, obj, options, lines):
    # PyLops' Solver.memory_usage (inherited by our solvers) writes "unit: :obj:`str`", which
    # numpydoc reads as a description, not a parameter
    for i, line in enumerate(lines):
        if line.strip().startswith("unit: :obj:"):
            lines[i] = line.replace("unit: ", "unit : ", 1)


def setup(app):
    app.connect("source-read", _source_read)
    app.connect("include-read", _include_read)
    app.connect("autodoc-process-docstring", _fix_inherited_docstring, priority=400)


# --- gallery ---------------------------------------------------------------------------------
_HERE = os.path.dirname(os.path.abspath(__file__))

sphinx_gallery_conf = {
    "examples_dirs": os.path.join(_HERE, "..", "examples"),
    "gallery_dirs": "auto_examples",
    # run the plot_ scripts; slurm_cgls.py and gpu_deblurring.py are shown, not run
    "filename_pattern": r"/plot_",
    # only these are gallery pages; the other scripts (demo.py, operators_tour.py...) are not
    "ignore_pattern": r"^(?!(plot_\w+|slurm_cgls|gpu_deblurring)\.py$)",
    "within_subsection_order": "FileNameSortKey",
    "image_scrapers": ("matplotlib",),
    "remove_config_comments": True,
    "download_all_examples": False,
    "plot_gallery": "True",
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "capture_repr": (),
    "first_notebook_cell": None,
}
