"""Every file in releasenotes/notes is a note reno can render.

reno reads each note as a mapping from section names to lists of
reStructuredText items. A note it cannot parse breaks the release notes
build; a note it misreads (an unknown section, text where a list belongs,
a section given twice) loses its text without a warning. This test reads
the notes as reno does, without reno or git, so a bad note fails the unit
tests and not only ``tox -e releasenotes``.
"""

import collections
import os
import re
import tempfile

import testtools
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..',
                                    '..'))
NOTES = os.path.join(ROOT, 'releasenotes', 'notes')

# reno's default sections. The prelude is one text; the others are lists.
SECTIONS = ('prelude', 'features', 'issues', 'upgrade', 'deprecations',
            'critical', 'security', 'fixes', 'other')
# The name "reno new <slug>" gives a note: the slug, then 16 random hex
# digits, which reno takes as the note's id.
NAME = re.compile(r'^[a-z0-9]+(?:[._-][a-z0-9]+)*-(?P<id>[0-9a-f]{16})\.yaml$')


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, but a key given twice is an error.

    NOTE: PyYAML keeps the last of two equal keys, so a note with two
    ``fixes:`` sections would lose the first without a word.
    """

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        if len(mapping) < len(node.value):
            counts = collections.Counter(
                self.construct_object(key, deep=deep) for key, _ in node.value)
            twice = sorted(str(key) for key, n in counts.items() if n > 1)
            raise yaml.constructor.ConstructorError(
                None, None, 'given twice: %s' % ', '.join(twice),
                node.start_mark)
        return mapping


def _text(value):
    return isinstance(value, str) and bool(value.strip())


def problems(path):
    """What is wrong with the note at ``path``; [] for a good note."""
    name = os.path.basename(path)
    found = []
    if not NAME.match(name):
        found.append('%s: not named <slug>-<16 hex digits>.yaml, as '
                     '"reno new <slug>" names a note' % name)
    try:
        with open(path, encoding='utf-8') as f:
            note = yaml.load(f, Loader=_Loader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        return found + ['%s: not YAML that reno can read: %s' % (name, e)]
    if not isinstance(note, dict) or not note:
        return found + ['%s: not a mapping from section names to items'
                        % name]
    for section, value in note.items():
        if section not in SECTIONS:
            found.append('%s: unknown section %r; reno knows %s'
                         % (name, section, ', '.join(SECTIONS)))
        elif section == 'prelude':
            if not _text(value):
                found.append('%s: prelude is not a non-empty text' % name)
        elif not isinstance(value, list):
            found.append('%s: %s is not a list of items ("- |" before '
                         'each)' % (name, section))
        elif not value:
            found.append('%s: %s is empty; remove it' % (name, section))
        else:
            for index, item in enumerate(value):
                if not _text(item):
                    found.append('%s: item %d of %s is not a non-empty '
                                 'text' % (name, index, section))
    return found


def note_files():
    return sorted(os.path.join(NOTES, name) for name in os.listdir(NOTES))


class TestReleaseNotes(testtools.TestCase):

    def test_every_note_is_one_reno_can_render(self):
        files = note_files()
        self.assertNotEqual([], files, 'no release notes in %s' % NOTES)
        found = [problem for path in files for problem in problems(path)]
        self.assertEqual([], found, '\n'.join(found))

    def test_each_note_has_an_id_of_its_own(self):
        # NOTE: reno takes two notes with one id for one note and shows
        # only one of them.
        by_id = collections.defaultdict(list)
        for path in note_files():
            match = NAME.match(os.path.basename(path))
            if match:
                by_id[match.group('id')].append(os.path.basename(path))
        shared = {key: names for key, names in by_id.items()
                  if len(names) > 1}
        self.assertEqual({}, shared)


GOOD = 'fixes:\n  - |\n    A fix.\n'
BAD_NOTES = [
    # (file name, content, what the problem names)
    ('no-id.yaml', GOOD, 'not named'),
    ('short-id-0123abcd.yaml', GOOD, 'not named'),
    ('Upper-Case-0123456789abcdef.yaml', GOOD, 'not named'),
    ('a-0123456789abcdef.yml', GOOD, 'not named'),
    ('a-0123456789abcdef.yaml', 'fixes: [unclosed\n', 'not YAML'),
    ('a-0123456789abcdef.yaml', '', 'not a mapping'),
    ('a-0123456789abcdef.yaml', '- A fix.\n', 'not a mapping'),
    ('a-0123456789abcdef.yaml', 'fix:\n  - A fix.\n', "unknown section"),
    ('a-0123456789abcdef.yaml', 'fixes: |\n  A fix.\n', 'not a list'),
    ('a-0123456789abcdef.yaml', 'fixes: []\n', 'is empty'),
    ('a-0123456789abcdef.yaml', 'fixes:\n  - ""\n', 'item 0 of fixes'),
    ('a-0123456789abcdef.yaml', 'fixes:\n  - A fix.\n  - 3\n',
     'item 1 of fixes'),
    ('a-0123456789abcdef.yaml', 'fixes:\n  - a: b\n', 'item 0 of fixes'),
    ('a-0123456789abcdef.yaml', 'prelude:\n  - Text.\n', 'prelude'),
    ('a-0123456789abcdef.yaml', 'fixes:\n  - One.\nfixes:\n  - Two.\n',
     'given twice: fixes'),
]


class TestNoteChecks(testtools.TestCase):

    def check(self, name, content):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, name)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(content)
            return problems(path)

    def test_a_good_note_has_no_problem(self):
        self.assertEqual([], self.check('a-fix-0123456789abcdef.yaml',
                                        'prelude: Text.\n' + GOOD))

    def test_each_bad_note_is_refused_naming_its_problem(self):
        missed = []
        for name, content, expected in BAD_NOTES:
            found = self.check(name, content)
            if not any(expected in problem for problem in found):
                missed.append('%s %r: %r' % (name, content, found))
        self.assertEqual([], missed)
