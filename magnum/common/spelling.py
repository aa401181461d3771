"""The known name closest to a misspelled one, for "did you mean" hints."""

import difflib

# NOTE: difflib's similarity ratio. 0.7 takes bay_uid -> bay_uuid,
# docker_ulr -> docker_url, image -> image_id, but not uuid -> bay_uuid,
# whose hint would mislead.
CUTOFF = 0.7


def closest(name, known, cutoff=CUTOFF):
    """The name in ``known`` closest to ``name`` (compared without case),
    or None when none is close; never ``name`` itself."""
    if not isinstance(name, str):
        return None
    by_lower = {}
    for candidate in known:
        if isinstance(candidate, str) and candidate != name:
            by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(name.lower(), list(by_lower), n=1,
                                      cutoff=cutoff)
    return by_lower[found[0]] if found else None


def did_you_mean(name, known, cutoff=CUTOFF):
    """``"; did you mean 'x'?"`` for the closest of ``known``, or ''."""
    match = closest(name, known, cutoff)
    return "; did you mean '%s'?" % match if match else ''
