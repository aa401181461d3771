"""COE clients: how the conductor speaks to a bay's COE endpoint.

One module a COE API; the conductor's handlers call them, nothing else does.
"""
