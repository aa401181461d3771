"""Sphinx configuration of Magnum's documentation.

No extension that reaches the network: the guides build offline with
``sphinx-build -W -b html doc/source doc/build/html`` (``tox -e docs``).
"""

project = 'Magnum'
copyright = 'Magnum developers'
author = 'Magnum developers'

extensions = []

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']

pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
