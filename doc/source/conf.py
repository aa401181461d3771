"""Sphinx configuration of Magnum's documentation.

No extension that reaches the network: the guides build offline with
``sphinx-build -W -b html doc/source doc/build/html`` (``tox -e docs``).
"""

import os
import sys

# NOTE: _ext holds the directive that renders the API reference from the
# code's OpenAPI description (magnum must be importable: tox installs it).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '_ext'))

project = 'Magnum'
copyright = 'Magnum developers'
author = 'Magnum developers'

extensions = ['magnum_openapi']

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']

pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
