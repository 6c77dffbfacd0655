"""difygen: sizing profiles to validated Kustomize overlays and Helm values for Dify."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("difygen")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
