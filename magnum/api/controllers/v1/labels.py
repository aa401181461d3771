"""Labels a child takes from its parent: a cluster from its template, a
node group from its cluster."""


def inherit(own, parents, merge=False):
    """The labels of a new child: its parent's where it gives none; with
    ``merge``, its parent's with its own over them; else its own."""
    if own is None:
        return dict(parents or {})
    if merge:
        return dict(parents or {}, **own)
    return own


def diff(mine, theirs):
    """How a child's labels differ from its parent's (a detail shows it)."""
    mine, theirs = mine or {}, theirs or {}
    return {
        'labels_overridden': {k: v for k, v in mine.items()
                              if k in theirs and theirs[k] != v},
        'labels_added': {k: v for k, v in mine.items() if k not in theirs},
        'labels_skipped': {k: v for k, v in theirs.items()
                           if k not in mine},
    }
