import pbr.version

version_info = pbr.version.VersionInfo('magnum')


def version_string():
    try:
        return version_info.version_string()
    except Exception:
        return 'unknown'
