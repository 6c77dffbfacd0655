"""difygen: sizing profiles to validated Kustomize overlays and Helm values for Dify."""

# The single place the version is written: pyproject.toml reads it from here (hatch), so
# start-up never needs importlib.metadata.
__version__ = "0.2.0"
