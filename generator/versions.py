"""What this difygen release is pinned to, as plain constants.

Kept free of imports so that `difygen --version` can name the pins without loading the
catalog, the schemas or the YAML libraries.
"""

DIFY_VERSION = "1.16.1"
# the community chart BorisPolonsky/dify-helm release the Helm values were checked against
CHART_NAME = "dify"
CHART_REPOSITORY = "https://borispolonsky.github.io/dify-helm"
CHART_VERSION = "0.38.0-rc2"
CHART_APP_VERSION = "1.16.1"
DEFAULT_KUBERNETES_VERSION = "1.35"
