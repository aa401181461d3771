"""Labels a child takes from its parent (a cluster from its template, a
node group from its cluster), shown: how the child's differ. What a child
takes is magnum/lifecycle/inheritance.py's."""


def diff(mine, theirs):
    """How a child's labels differ from its parent's (a detail shows it):
    as OpenStack Magnum shows it, an overridden label with the parent's
    value (the child's is in its labels)."""
    mine, theirs = mine or {}, theirs or {}
    return {
        'labels_overridden': {k: theirs[k] for k, v in mine.items()
                              if k in theirs and theirs[k] != v},
        'labels_added': {k: v for k, v in mine.items() if k not in theirs},
        'labels_skipped': {k: v for k, v in theirs.items()
                           if k not in mine},
    }
