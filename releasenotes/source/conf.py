"""Sphinx configuration of Magnum's release notes.

The notes are the YAML files in ``releasenotes/notes``; reno's directive
(``.. release-notes::``) reads them from git, so a note shows once it is
committed (or staged). Built by ``tox -e releasenotes`` and ``tox -e docs``::

    sphinx-build -W -b html releasenotes/source releasenotes/build/html
"""

project = 'Magnum Release Notes'
copyright = 'Magnum developers'
author = 'Magnum developers'

extensions = ['reno.sphinxext']

master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
exclude_patterns = ['_build']

pygments_style = 'sphinx'
html_theme = 'alabaster'
html_static_path = []
